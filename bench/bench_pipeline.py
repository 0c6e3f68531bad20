"""The whole pipeline at one scale: wall time per stage, peak memory, rows; a full build against
the daily incremental run that follows it, in one run.

1. Generate an org (sources standing one day before its last day).
2. Full build: every source loaded (CRM export, WeCom through its stand-in, U8, sheets), dbt,
   checks — wall time per Dagster step.
3. ``append_day``, then the daily run on the same warehouse: the cost of one new day.
4. The BI site built from the published file: build time and page weight.

Peak RSS is this process's (loads, checks, Dagster) and its children's (dbt, npm), as
``getrusage`` reports them.

Usage: ``python bench/bench_pipeline.py [scale] [work_dir] [--no-bi]``; prints a Markdown table
and writes ``<work_dir>/pipeline_<scale>.json``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingest.pipelines import raw_row_counts
from salesops import config as salesops_config
from salesops.demo.generate import append_day, generate
from salesops.demo.serve import served_sources

AS_OF = date(2026, 11, 20)


def rss_mb() -> tuple[float, float]:
    """Peak RSS so far (MB) of this process and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def stage(step: str) -> str:
    if step.startswith("ingest_"):
        return f"load {step.removeprefix('ingest_')}"
    if step.startswith(("dbt_models", "dbt_pipeline_daily")):
        return "dbt"
    return "checks"


def run_once(src: Path, root: Path, label: str) -> dict:
    from salesops import runner

    with served_sources(src, AS_OF, crm="export") as sections:
        cfg = salesops_config.from_dict(
            {
                "warehouse": {"path": str(root / "warehouse.duckdb")},
                "as_of": AS_OF.isoformat(),
                "sources": sections,
            },
            base=root,
        )
        path = root / "salesops.yml"
        path.write_text(salesops_config.dump(cfg), encoding="utf-8")
        started = time.perf_counter()
        outcome = runner.run(path, exclude_groups=("bi",), echo=lambda _m: None)
        seconds = time.perf_counter() - started
    if not outcome.success:
        raise SystemExit(f"{label} run failed: {outcome.errors}")
    stages: dict[str, float] = {}
    for step, secs in outcome.step_seconds.items():
        stages[stage(step)] = stages.get(stage(step), 0.0) + secs
    return {"seconds": seconds, "stages": stages, "config": str(path)}


def raw_rows(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return sum(raw_row_counts(con).values())
    finally:
        con.close()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    scale = args[0] if args else "S"
    root = Path(args[1]) if len(args) > 1 else Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DAGSTER_HOME", str(root / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    src = root / "sources"
    shutil.rmtree(src, ignore_errors=True)
    (root / "warehouse.duckdb").unlink(missing_ok=True)
    shutil.rmtree(root / ".dlt_pipelines", ignore_errors=True)

    t = time.perf_counter()
    generate(src, seed=7, scale=scale, as_of=AS_OF, through=AS_OF - timedelta(days=1))
    gen_seconds = time.perf_counter() - t
    full = run_once(src, root, "full")
    rows = raw_rows(root / "warehouse.duckdb")
    append_day(src)
    daily = run_once(src, root, "daily")
    new_rows = raw_rows(root / "warehouse.duckdb") - rows
    result = {
        "scale": scale,
        "machine": f"{os.cpu_count()} cores",
        "generate_seconds": gen_seconds,
        "raw_rows": rows,
        "new_day_rows": new_rows,
        "full": full,
        "daily": daily,
        "daily_over_full": daily["seconds"] / full["seconds"],
    }
    if "--no-bi" not in sys.argv:
        from salesops import bi, publish

        bi_file = root / "warehouse_bi.duckdb"
        publish.publish_bi(root / "warehouse.duckdb", bi_file)
        t = time.perf_counter()
        site = bi.build_site(bi_file, root / "site")
        result["bi_build_seconds"] = time.perf_counter() - t
        files = [p for p in site.rglob("*") if p.is_file()]
        result["site_bytes"] = sum(p.stat().st_size for p in files)
        pages = {}
        for html in site.rglob("index.html"):
            page = html.parent.relative_to(site).as_posix() or "/"
            data = [p for p in html.parent.glob("*") if p.is_file()]
            pages[page] = sum(p.stat().st_size for p in data)
        result["page_bytes"] = pages
    result["peak_rss_mb"], result["peak_rss_children_mb"] = rss_mb()
    (root / f"pipeline_{scale}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")

    print(f"\nscale {scale}: {rows:,} raw rows; the appended day brought {new_rows:,}")
    print("| stage | full build (s) | daily run (s) |")
    print("|---|---|---|")
    for name in sorted(set(full["stages"]) | set(daily["stages"])):
        print(
            f"| {name} | {full['stages'].get(name, 0):.1f} | {daily['stages'].get(name, 0):.1f} |"
        )
    print(f"| **whole run** | {full['seconds']:.1f} | {daily['seconds']:.1f} |")
    print(f"daily ÷ full = {result['daily_over_full']:.2f}")
    print(
        f"peak RSS: {result['peak_rss_mb']:.0f} MB (this process), "
        f"{result['peak_rss_children_mb']:.0f} MB (largest child: dbt, npm)"
    )
    if "bi_build_seconds" in result:
        print(
            f"BI site build {result['bi_build_seconds']:.0f} s; "
            f"site {result['site_bytes'] / 1e6:.1f} MB; per page (HTML + its data, KB): "
            + ", ".join(f"{p} {b / 1e3:.0f}" for p, b in sorted(result["page_bytes"].items()))
        )


if __name__ == "__main__":
    main()
