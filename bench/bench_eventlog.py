"""Dagster's SQLite event log as Dagster sets it up and as the project does
(orchestration/eventlog.py).

One asset with ``checks`` asset checks (200 by default, about a dbt build's tests), executed in
process against a persistent instance (``DAGSTER_HOME`` in a temporary folder, SQLite), in two
fresh processes: Dagster's default (a connection opened per statement, ``synchronous=FULL`` on
every file) and the project's instance (its ``dagster.yaml``: the event log's connections kept
open; ``relax_run_event_files``: the run's own event file without a sync per event). The two
sides take turns, ``repeats`` processes each (a neighbour's load falls on both); the best time
of each side is compared. ``--disk-load`` keeps a writer syncing a file to the same disk
meanwhile, as other work on a shared machine does.

    python bench/bench_eventlog.py [checks] [repeats] [--disk-load]

Prints one JSON object: seconds per side, the ratio project ÷ default, and the events written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checked_asset(checks: int, name: str = "measured"):
    """One asset whose step reports it materialised and ``checks`` passing checks."""
    import dagster as dg

    specs = [dg.AssetCheckSpec(f"check_{i:03d}", asset=name) for i in range(checks)]

    @dg.multi_asset(name=name, specs=[dg.AssetSpec(name)], check_specs=specs)
    def asset():
        yield dg.MaterializeResult(asset_key=name)
        for spec in specs:
            yield dg.AssetCheckResult(asset_key=name, check_name=spec.name, passed=True)

    return asset


def child(checks: int, project: bool) -> dict[str, float]:
    """In a process of its own: run the job once; its seconds and events."""
    import dagster as dg

    if project:
        from orchestration.eventlog import relax_run_event_files

        relax_run_event_files()

    measured = checked_asset(checks)
    job = dg.define_asset_job("eventlog_bench", selection=[measured])
    defs = dg.Definitions(assets=[measured], jobs=[job])
    resolved = defs.resolve_job_def("eventlog_bench")
    with dg.DagsterInstance.get() as instance:
        started = time.perf_counter()
        result = resolved.execute_in_process(instance=instance, raise_on_error=True)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "events": len(instance.all_logs(result.run_id))}


def disk_writer(folder: Path, stop: threading.Event) -> None:
    """Write and sync 1 MB at a time until ``stop``: a neighbour keeping the disk busy."""
    block = os.urandom(1 << 20)
    path = folder / "neighbour.bin"
    with open(path, "wb") as fh:
        while not stop.is_set():
            fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
            if fh.tell() > 256 << 20:
                fh.seek(0)
    path.unlink(missing_ok=True)


def side(checks: int, project: bool, work: Path) -> dict[str, float]:
    home = work / ("project" if project else "default")
    home.mkdir(parents=True, exist_ok=True)
    if project:
        shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    else:
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    code = (
        "import json, sys; sys.path.insert(0, 'bench'); import bench_eventlog as b; "
        f"print(json.dumps(b.child({checks}, {project})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    checks = int(args[0]) if args else 200
    repeats = int(args[1]) if len(args) > 1 else 3
    with tempfile.TemporaryDirectory(prefix="bench-eventlog-", dir=ROOT / "build") as tmp:
        work = Path(tmp)
        stop = threading.Event()
        writer = None
        if "--disk-load" in sys.argv:
            writer = threading.Thread(target=disk_writer, args=(work, stop), daemon=True)
            writer.start()
        try:
            runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
            for _ in range(repeats):
                for project in (False, True):
                    runs[project].append(side(checks, project, work))
            default = min(runs[False], key=lambda r: r["seconds"])
            project = min(runs[True], key=lambda r: r["seconds"])
        finally:
            stop.set()
            if writer is not None:
                writer.join()
    print(
        json.dumps(
            {
                "checks": checks,
                "repeats": repeats,
                "disk_load": writer is not None,
                "events_per_run": project["events"],
                "default_seconds": round(default["seconds"], 2),
                "project_seconds": round(project["seconds"], 2),
                "project_over_default": round(project["seconds"] / default["seconds"], 3),
                "default_all": [round(r["seconds"], 2) for r in runs[False]],
                "project_all": [round(r["seconds"], 2) for r in runs[True]],
            }
        )
    )


if __name__ == "__main__":
    main()
