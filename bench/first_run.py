"""A newcomer's first run, timed: a fresh clone to a browsable demo, then `make demo` again.

1. ``git clone`` of this checkout's HEAD into ``<work_dir>/clone``.
2. Set-up as ``make demo`` does it: the virtualenv and node_modules side by side (each timed).
   With ``--cold`` the uv and npm caches are empty folders, so every package is downloaded,
   as on a fresh machine.
3. ``make demo`` (set-up already done): generate, each pipeline step, the BI build, the report
   — from the demo's own per-step lines.
4. ``make demo`` again, with nothing changed.

Usage: ``python3 bench/first_run.py [work_dir] [--cold]`` (default ``build/first_run``); prints
the breakdown as Markdown and writes ``<work_dir>/first_run.json``. Uses only the standard
library: it runs before any virtualenv exists.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEP = re.compile(r"^\[\s*([\d.]+)s\] (start|done ) (\S+)")


def _cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far: unlike wall time,
    hardly moved by other work on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, float]:
    started, cpu = time.monotonic(), _cpu()
    with log.open("w", encoding="utf-8") as fh:
        code = subprocess.call(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    if code != 0:
        sys.exit(f"{' '.join(cmd)} failed ({code}); see {log}")
    return time.monotonic() - started, _cpu() - cpu


def _steps(log: Path) -> dict[str, float]:
    """Seconds per pipeline step, from the demo's ``[  12.3s] start|done step`` lines."""
    started, out = {}, {}
    for line in log.read_text(encoding="utf-8").splitlines():
        m = STEP.match(line)
        if m:
            at, word, step = float(m[1]), m[2].strip(), m[3]
            if word == "start":
                started[step] = at
            else:
                out[step] = round(at - started.get(step, at), 1)
    return out


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    cold = "--cold" in argv
    work = Path(args[0] if args else ROOT / "build" / "first_run").resolve()
    shutil.rmtree(work, ignore_errors=True)
    clone = work / "clone"
    work.mkdir(parents=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = dict(os.environ)
    for var in ("DAGSTER_HOME", "SALESOPS_CONFIG", "VIRTUAL_ENV"):
        env.pop(var, None)
    if cold:
        env["UV_CACHE_DIR"] = str(work / "cache" / "uv")
        env["npm_config_cache"] = str(work / "cache" / "npm")
        env["PIP_NO_CACHE_DIR"] = "1"
    load = os.getloadavg()[0]
    result: dict[str, object] = {"cold_caches": cold, "load_at_start": round(load, 1)}
    started, cpu = time.monotonic(), _cpu()
    # set-up: the two halves side by side, as `make setup` runs them
    procs = {}
    for target in ("install", "node"):
        fh = (work / f"{target}.log").open("w", encoding="utf-8")
        procs[target] = (
            time.monotonic(),
            subprocess.Popen(["make", target], cwd=clone, env=env, stdout=fh, stderr=fh),
        )
    for target, (t0, proc) in procs.items():
        if proc.wait() != 0:
            sys.exit(f"make {target} failed; see {work / f'{target}.log'}")
        result[f"setup: make {target} (s)"] = round(time.monotonic() - t0, 1)
    result["setup wall (s)"] = round(time.monotonic() - started, 1)
    result["setup CPU (s)"] = round(_cpu() - cpu, 1)
    first, first_cpu = _timed(["make", "demo"], clone, env, work / "demo_1.log")
    result["first make demo after set-up (s)"] = round(first, 1)
    result["first make demo after set-up, CPU (s)"] = round(first_cpu, 1)
    result["fresh clone to demo (s)"] = round(time.monotonic() - started, 1)
    result["steps"] = _steps(work / "demo_1.log")
    gen = re.search(r"^  generated in ([\d.]+)s", (work / "demo_1.log").read_text(), re.M)
    if gen:
        result["generate (s)"] = float(gen[1])
    result["load_at_end"] = round(os.getloadavg()[0], 1)
    second, second_cpu = _timed(["make", "demo"], clone, env, work / "demo_2.log")
    result["second make demo (s)"] = round(second, 1)
    result["second make demo, CPU (s)"] = round(second_cpu, 1)
    (work / "first_run.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
