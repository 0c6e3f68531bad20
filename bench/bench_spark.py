"""make bench-spark: one generated org built on DuckDB and on Apache Spark (dbt-spark, local
session), step by step, and every published mart compared row by row.

1. The org (seed 7, as of 2026-11-20, its sources one day short of the last day, as
   ``bench/bench_pipeline.py`` generates it; kept in ``<work_dir>/org`` and reused).
2. The whole pipeline (loads, dbt build with its tests, checks; no BI) on each engine, as
   ``make spark-parity`` runs it (``bench/spark_parity.py``), the CRM read from its export.
   Wall time per Dagster step; within the dbt step, from the run's event log and dbt's
   ``run_results.json``: the raw layer put onto the engine, the ``dbt build``s (models and
   tests), the win model's fit, the marts copied back into the warehouse file. Summed model
   time and the heaviest models per engine; peak RSS of the process tree (dbt, the JVMs) per
   stage; the 1-minute load average at every step's start and end (the machine is shared).
3. Every published mart compared row by row (``spark_parity.compare``).

Usage: ``python bench/bench_spark.py [scale] [work_dir] [--spark-memory 4g] [--engines spark
duckdb]``; writes ``<work_dir>/spark_<scale>.json`` (``spark_<scale>.partial.json`` after the
first build, so a second that does not finish leaves what was measured) and prints a summary.
``python bench/bench_spark.py --report <json> <json> ...`` tabulates several scales: the growth
exponents, each engine's fixed cost per model and cost per row, and where a cluster would
overtake one DuckDB machine under stated assumptions.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import spark_parity
from bench_pipeline import RssSampler, generate_org, raw_rows, stage_of

from devkit.demo.generate import SCALES
from salesops import spark

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("duckdb", "spark")
# what the dbt step logs when each of its parts is done (orchestration/defs/transform.py)
MARKS = {
    "raw": "raw tables registered on Spark",
    "fit": "win model fitted",
    "copy": "Spark tables and views copied",
}
FIT_MODEL = "win_model_fit"  # the fit as a dbt Python model (DuckDB)
TOP_MODELS = 8


def _stamp(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp()


def invocations(work_dir: Path, since: float) -> list[dict]:
    """The dbt invocations that ended after ``since`` (epoch seconds), in order: when each
    ended, dbt's own elapsed time, and the execution time of every model and test."""
    out = []
    for path in (work_dir / ".dbt").glob("*/run_results.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        ended = _stamp(data["metadata"]["generated_at"])
        if ended < since:
            continue
        models, tests = {}, 0.0
        for r in data["results"]:
            kind, name = r["unique_id"].split(".")[0], r["unique_id"].split(".")[-1]
            if kind == "model":
                models[name] = r["execution_time"]
            elif kind == "test":
                tests += r["execution_time"]
        out.append(
            {"ended": ended, "elapsed": data["elapsed_time"], "models": models, "tests": tests}
        )
    return sorted(out, key=lambda i: i["ended"])


def dbt_parts(engine: str, run_id: str, work_dir: Path) -> dict[str, float]:
    """The dbt step of run ``run_id`` in parts (wall seconds), from the run's event log and the
    dbt invocations it made: raw layer onto the engine, dbt build, win fit, copy back. On
    DuckDB the raw layer is already there and nothing is copied; the fit is a model inside the
    build (its time is taken out of the build's)."""
    import dagster as dg

    start = end = None
    marks: dict[str, float] = {}
    for entry in dg.DagsterInstance.get().all_logs(run_id):
        event, step = entry.dagster_event, entry.step_key or ""
        if event is not None and step.startswith("dbt_models"):
            if event.event_type_value == "STEP_START":
                start = entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                end = entry.timestamp
        for part, text in MARKS.items():
            if text in (entry.user_message or ""):
                marks[part] = entry.timestamp
    if start is None or end is None:
        return {}
    runs = [i for i in invocations(work_dir, start) if i["ended"] <= end + 1]
    if not runs:
        return {}
    parts = {"step": end - start}
    if engine == "spark":
        parts["raw onto engine"] = marks["raw"] - start
        build = runs[0]["ended"] - marks["raw"]
        fit = 0.0
        if len(runs) > 1 and "fit" in marks:
            fit = marks["fit"] - runs[0]["ended"]
            build += runs[1]["ended"] - marks["fit"]
        parts["dbt build"], parts["win fit"] = build, fit
        parts["copy back"] = marks.get("copy", runs[-1]["ended"]) - runs[-1]["ended"]
        tail = marks.get("copy", runs[-1]["ended"])
    else:
        fit = sum(i["models"].get(FIT_MODEL, 0.0) for i in runs)
        parts["raw onto engine"] = 0.0
        parts["dbt build"] = runs[-1]["ended"] - start - fit
        parts["win fit"], parts["copy back"] = fit, 0.0
        tail = runs[-1]["ended"]
    parts["rest of the step"] = end - tail  # the assets' materialisation events
    parts["dbt elapsed (dbt's own)"] = sum(i["elapsed"] for i in runs)
    parts["invocations"] = len(runs)
    return parts


def model_seconds(work_dir: Path, since: float) -> tuple[dict[str, float], float]:
    models: dict[str, float] = {}
    tests = 0.0
    for i in invocations(work_dir, since):
        models.update(i["models"])
        tests += i["tests"]
    return models, tests


def run_engine(engine: str, root: Path, src: Path, sampler: RssSampler) -> dict:
    loads: list[tuple[str, float]] = [("start", os.getloadavg()[0])]

    def follow(line: str) -> None:
        m = spark_parity_step(line)
        if m:
            word, step = m
            loads.append((f"{word} {step}", os.getloadavg()[0]))

    started = time.time()
    sampler.take()
    cfg, outcome = spark_parity.run_pipeline(root / engine, src, engine, echo=follow, crm="export")
    seconds = time.time() - started
    loads.append(("end", os.getloadavg()[0]))
    models, tests = model_seconds(cfg.work_dir, started)
    ranked = sorted(models.items(), key=lambda kv: -kv[1])
    spans: dict[str, list[tuple[float, float]]] = {}
    for step, span in outcome.step_spans.items():
        spans.setdefault(f"{engine}: {stage_of(step)}", []).append(span)
    peaks = sampler.take_over(spans)
    peaks[engine] = peaks.pop("other", 0.0)  # outside the steps: the engine's own start, copies
    return {
        "seconds": seconds,
        "success": outcome.success,
        "steps": outcome.step_seconds,
        "run_id": outcome.run_id,
        "dbt_parts": dbt_parts(engine, outcome.run_id, cfg.work_dir),
        "models": len(models),
        "model_seconds": sum(models.values()),
        "test_seconds": tests,
        "model_times": dict(ranked),
        "heaviest": [name for name, _ in ranked[:TOP_MODELS]],
        "peak_rss_mb": peaks,
        "peak_rss_mb_max": max(peaks.values(), default=0.0),
        "load_average": loads,
        "warehouse": str(cfg.warehouse),
    }


def spark_parity_step(line: str) -> tuple[str, str] | None:
    from bench_pipeline import STEP_LINE

    m = STEP_LINE.search(line)
    return (m.group(1).strip(), m.group(2)) if m else None


def parity(duck: Path, on_spark: Path) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        failed = spark_parity.compare(duck, on_spark)
    lines = out.getvalue().splitlines()
    return {"failed": failed, "total": lines[-1] if lines else "", "lines": lines}


def main_bench(scale: str, root: Path, memory: str, engines: tuple[str, ...] = ENGINES) -> dict:
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    # a new folder is given the project's instance settings by the first run (runner.run)
    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    # dbt's Spark session (profiles.yml) and the sessions of salesops.spark read it
    os.environ["SALESOPS_SPARK_MEMORY"] = memory
    for stale in (root / "sources", *(root / e for e in ENGINES)):
        shutil.rmtree(stale, ignore_errors=True)
    src = root / "sources"
    spec = SCALES[scale]
    memory_gb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    result: dict = {
        "scale": scale,
        "reps": spec.reps_per_region * 4,
        "months": spec.months,
        "machine": f"{os.cpu_count()} cores, {memory_gb:.0f} GB, shared",
        "spark_settings": {
            k: v
            for k, v in spark.session_config(root / "spark").items()
            if k in ("spark.master", "spark.driver.memory", "spark.sql.shuffle.partitions")
        },
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    partial = root / f"spark_{scale}.partial.json"
    with RssSampler() as sampler:
        t = time.perf_counter()
        result["generate_seconds"], generated = generate_org(scale, src, root / "org")
        print(
            f"scale {scale}: org {'generated' if generated else 'copied'} in "
            f"{time.perf_counter() - t:.0f}s",
            flush=True,
        )
        for engine in engines:
            print(f"  {engine} ...", flush=True)
            result[engine] = run_engine(engine, root, src, sampler)
            print(f"  {engine}: {result[engine]['seconds']:.0f}s", flush=True)
            rows = raw_rows(Path(result[engine]["warehouse"]))  # the same loads on both
            result["raw_rows"] = sum(rows.values())
            partial.write_text(json.dumps(result, indent=2), encoding="utf-8")
    result["parity"] = parity(
        Path(result["duckdb"]["warehouse"]), Path(result["spark"]["warehouse"])
    )
    result["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
    (root / f"spark_{scale}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    partial.unlink(missing_ok=True)
    return result


PARTS = ("raw onto engine", "dbt build", "win fit", "copy back")


def print_run(r: dict) -> None:
    print(
        f"\nscale {r['scale']} ({r['reps']} reps × {r['months']} months, {r['raw_rows']:,} raw "
        f"rows); Spark {r['spark_settings']['spark.master']}, driver memory "
        f"{r['spark_settings']['spark.driver.memory']}"
    )
    print("| | DuckDB | Spark | Spark ÷ DuckDB |")
    print("|---|---|---|---|")

    def row(label: str, d: float, s: float) -> None:
        ratio = f"{s / d:.1f}" if d else "—"
        print(f"| {label} | {d:.1f} | {s:.1f} | {ratio} |")

    duck, on_spark = r["duckdb"], r["spark"]
    loads = [k for k in duck["steps"] if k.startswith("ingest_")]
    row(
        "loads (s)",
        sum(duck["steps"][k] for k in loads),
        sum(on_spark["steps"].get(k, 0) for k in loads),
    )
    for part in PARTS:
        row(
            f"dbt step: {part} (s)",
            duck["dbt_parts"].get(part, 0),
            on_spark["dbt_parts"].get(part, 0),
        )
    row("dbt step (s)", duck["dbt_parts"].get("step", 0), on_spark["dbt_parts"].get("step", 0))
    checks = [k for k in duck["steps"] if stage_of(k) == "checks"]
    row(
        "checks (s)",
        sum(duck["steps"][k] for k in checks),
        sum(on_spark["steps"].get(k, 0) for k in checks),
    )
    row("whole pipeline (s)", duck["seconds"], on_spark["seconds"])
    row("summed model time (s)", duck["model_seconds"], on_spark["model_seconds"])
    row("summed test time (s)", duck["test_seconds"], on_spark["test_seconds"])
    row("peak RSS, process tree (MB)", duck["peak_rss_mb_max"], on_spark["peak_rss_mb_max"])
    for engine in ENGINES:
        e = r[engine]
        top = ", ".join(f"{m} {e['model_times'][m]:.1f}" for m in e["heaviest"][:5])
        loads = [v for _, v in e["load_average"]]
        print(
            f"{engine}: {e['models']} models; heaviest (s): {top}; load average "
            f"{min(loads):.0f}–{max(loads):.0f}"
        )
    if "parity" in r:
        print(r["parity"]["total"])


# -- several scales: growth and projection ----------------------------------------------------
def line(rows_a: float, cost_a: float, rows_b: float, cost_b: float) -> tuple[float, float]:
    """cost = fixed + per_row x rows through two measurements: (fixed, per_row)."""
    per_row = (cost_b - cost_a) / (rows_b - rows_a)
    return cost_a - per_row * rows_a, per_row


def growth(a: dict, b: dict) -> dict[str, dict[str, float]]:
    """Per engine, from two runs (smaller org first): the exponent k of cost ∝ rows^k for the
    dbt build, the summed model time and the peak RSS; and the dbt build and the summed model
    time as a fixed part plus a part per raw row."""
    span = math.log(b["raw_rows"] / a["raw_rows"])
    out = {}
    for engine in ENGINES:
        ea, eb = a[engine], b[engine]
        build = line(
            a["raw_rows"], ea["dbt_parts"]["dbt build"], b["raw_rows"], eb["dbt_parts"]["dbt build"]
        )
        models = line(a["raw_rows"], ea["model_seconds"], b["raw_rows"], eb["model_seconds"])
        out[engine] = {
            "k_build": math.log(eb["dbt_parts"]["dbt build"] / ea["dbt_parts"]["dbt build"]) / span,
            "k_models": math.log(eb["model_seconds"] / ea["model_seconds"]) / span,
            "k_rss": math.log(eb["peak_rss_mb_max"] / ea["peak_rss_mb_max"]) / span,
            "build_fixed": build[0],
            "build_per_row": build[1],
            "model_fixed": models[0] / ea["models"],
            "model_per_row": models[1],
        }
    return out


def crossover(fits: dict[str, dict[str, float]], nodes: int) -> float | None:
    """The raw rows past which Spark on ``nodes`` machines builds faster than one DuckDB
    machine: Spark's per-row part divided by the nodes (linear scale-out), its fixed part
    unchanged. None when it never does (or always does: a fixed part below DuckDB's)."""
    d, s = fits["duckdb"], fits["spark"]
    gain = d["build_per_row"] - s["build_per_row"] / nodes
    if gain <= 0 or s["build_fixed"] <= d["build_fixed"]:
        return None
    return (s["build_fixed"] - d["build_fixed"]) / gain


def report(paths: list[Path], nodes: list[int]) -> None:
    runs = sorted(
        (json.loads(p.read_text(encoding="utf-8")) for p in paths), key=lambda r: r["raw_rows"]
    )
    for r in runs:
        print_run(r)
    if len(runs) < 2:
        return
    a, b = runs[0], runs[-1]
    fits = growth(a, b)
    print(f"\ngrowth {a['scale']} → {b['scale']} (cost ∝ rows^k; cost = fixed + per-row × rows)")
    for engine, f in fits.items():
        print(
            f"{engine}: k dbt build {f['k_build']:.2f}, summed models {f['k_models']:.2f}, "
            f"peak RSS {f['k_rss']:.2f}; dbt build {f['build_fixed']:.0f} s fixed + "
            f"{f['build_per_row'] * 1e6:.1f} s per million raw rows; per model "
            f"{f['model_fixed']:.2f} s fixed"
        )
    for n in nodes:
        rows = crossover(fits, n)
        where = f"past ~{rows / 1e6:,.0f}M raw rows" if rows else "at no size"
        print(f"Spark on {n} nodes builds faster than one DuckDB machine {where}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scale", nargs="?", default="S")
    ap.add_argument("work_dir", nargs="?", default=None)
    ap.add_argument("--spark-memory", default="4g")
    ap.add_argument(
        "--engines", nargs=2, default=list(ENGINES), help="the order the two builds run in"
    )
    ap.add_argument("--report", nargs="+", type=Path, help="spark_<scale>.json files")
    ap.add_argument("--nodes", type=int, nargs="+", default=[4, 8, 16])
    args = ap.parse_args(argv)
    if args.report:
        report(args.report, args.nodes)
        return 0
    if args.scale not in SCALES:
        raise SystemExit(f"unknown scale {args.scale!r}: choose one of {', '.join(SCALES)}")
    root = Path(args.work_dir or ROOT / "build" / "bench" / "spark" / args.scale)
    if sorted(args.engines) != sorted(ENGINES):
        raise SystemExit(f"--engines takes {' and '.join(ENGINES)}, in either order")
    r = main_bench(args.scale, root, args.spark_memory, tuple(args.engines))
    print_run(r)
    return (
        1 if r["parity"]["failed"] or not (r["duckdb"]["success"] and r["spark"]["success"]) else 0
    )


if __name__ == "__main__":
    sys.exit(main())
