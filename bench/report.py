"""Tabulate ``bench_pipeline.py`` results of several scales (one ``make bench``): per-stage
time and memory, the ratios, how cost grows from one scale to the next, a projection to
5,000 reps over 3 years, each goal of the daily run met or missed, what the daily run spends
its time on, and what a daily run costs before its data (the smallest scale's, set against each
larger scale's full build).

Usage: ``python bench/report.py WORK_DIR`` (reads ``WORK_DIR/*/pipeline_<scale>.json``, and
the loaders' million-row results ``WORK_DIR/*/bench_crm.json``, ``bench_u8.json``); prints
Markdown.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ORDER = ("XS", "S", "M", "L")
TARGET = {"reps": 5000, "months": 36}
MACHINE = {"full_seconds": 600, "rss_mb": 24_000}  # the goals' machine: 10 minutes, 24 GB
STAGES = ("load crm", "load wecom", "load u8", "load sheets", "dbt", "checks")
# the daily run's goals (a day pays for the day, not for all history)
GOALS = {
    "daily_over_full": 0.05,  # a daily run, of a full build
    "rerun_over_full": 0.03,  # the same run again with nothing new, of a full build
    "peak_rss_mb": 3000,  # the process tree at M
    "loader_ratio": 0.5,  # each loader's rows/s, of a direct read of the same data
    "projected_daily_minutes": 5.0,  # at TARGET, on one machine like this
}
LOADER_BENCHES = {"bench_crm.json": "CRM export, 1M-row Task.csv", "bench_u8.json": "U8, 1M lines"}


def load(work: Path) -> list[dict]:
    found = [json.loads(p.read_text(encoding="utf-8")) for p in work.glob("*/pipeline_*.json")]
    return sorted(found, key=lambda r: ORDER.index(r["scale"]) if r["scale"] in ORDER else 9)


def load_loader_benches(work: Path) -> dict[str, dict]:
    """The loaders' million-row results (bench_crm.py, bench_u8.py) found under ``work``."""
    return {
        p.name: json.loads(p.read_text(encoding="utf-8"))
        for name in LOADER_BENCHES
        for p in sorted(work.glob(f"*/{name}"))[:1]
    }


def exponent(small: float, large: float, small_n: float, large_n: float) -> float:
    """k in cost ∝ n^k between two sizes (1 = linear)."""
    if min(small, large, small_n, large_n) <= 0 or small_n == large_n:
        return float("nan")
    return math.log(large / small) / math.log(large_n / small_n)


def fit_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares a + b·x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return my, 0.0
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


def report(results: list[dict], loader_benches: dict[str, dict] | None = None) -> str:
    out = []
    head = "| | " + " | ".join(
        f"{r['scale']} ({r['reps']} reps × {r['months']} mo)" for r in results
    )
    out += [head + " |", "|---" * (len(results) + 1) + "|"]

    def row(label: str, cells: list[str]) -> None:
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    row("raw rows", [f"{r['raw_rows']:,}" for r in results])
    row("generate (s)", [f"{r['generate_seconds']:.0f}" for r in results])

    def stages(run: str) -> None:
        for stage in STAGES:
            row(f"{run}: {stage} (s)", [f"{r[run]['stages'].get(stage, 0):.1f}" for r in results])

    stages("full")
    row("**full build (s)**", [f"**{r['full']['seconds']:.0f}**" for r in results])
    row("new rows in the appended day", [f"{r['new_day_rows']:,}" for r in results])
    stages("daily")
    row("**daily run (s)**", [f"**{r['daily']['seconds']:.1f}**" for r in results])
    row("**daily ÷ full**", [f"**{r['daily_over_full']:.3f}**" for r in results])
    stages("rerun")
    row("rerun with nothing new (s)", [f"{r['rerun']['seconds']:.1f}" for r in results])
    row(
        "**rerun ÷ full**",
        [f"**{r['rerun']['seconds'] / r['full']['seconds']:.3f}**" for r in results],
    )
    row("(daily − rerun) ÷ full", [f"{r['new_data_over_full']:.3f}" for r in results])
    # the next day's run and a rerun, each in a fresh `salesops run` process, as scheduled
    for run, label in (("daily", "daily run"), ("rerun", "rerun with nothing new")):
        row(
            f"{label} in a fresh process (s)",
            [f"{r['fresh'][run]['seconds']:.1f}" if r.get("fresh") else "-" for r in results],
        )
    row("peak RSS, process tree (MB)", [f"{r['peak_rss_mb']:.0f}" for r in results])
    row("DuckDB memory_limit / threads", [str(r.get("duckdb", "-")) for r in results])
    for name in ("crm", "wecom", "u8", "sheets"):
        row(
            f"loader {name} ÷ direct read",
            [
                f"{r['loaders'][name]['ratio']:.2f} ({r['loaders'][name]['rows_per_s']:,.0f} vs "
                f"{r['loaders'][name]['direct_rows_per_s']:,.0f} rows/s)"
                for r in results
            ],
        )
    row("heaviest dbt model (full build)", [str(r["heaviest_model"]) for r in results])
    row(
        "dbt model ÷ hand-written query",
        [
            (
                f"{h['model']}: {h['ratio']:.2f} ({h['dbt_seconds']:.1f} vs "
                f"{h['query_seconds']:.1f} s, {h['rows_differing']} rows differ)"
                if h
                else "-"
            )
            for h in (r["handwritten"] for r in results)
        ],
    )
    row(
        "BI build (s) / pages / site MB",
        [
            (f"{r['bi']['seconds']:.0f} / {r['bi']['pages']} / {r['bi']['site_bytes'] / 1e6:.0f}")
            if r.get("bi") and "seconds" in r["bi"]
            else ("failed" if r.get("bi") else "-")
            for r in results
        ],
    )
    out.append("")
    by = {r["scale"]: r for r in results}
    if "S" in by and "M" in by:
        out.append(growth(by["S"], by["M"]))
    big = [r for r in results if r["scale"] != "XS"]
    projected = None
    if len(big) >= 2:
        out.append(projection(big, by.get("M", big[-1])))
        projected = projections(big, by.get("M", big[-1]))
    out += ["", goals(results, projected, loader_benches or {}), "", spending(results)]
    if len(results) >= 2:
        out += ["", floor(results)]
    return "\n".join(out)


def _verdict(value: float, limit: float, at_least: bool = False) -> str:
    """Whether ``value`` meets a goal of at most ``limit`` (``at_least``: of at least it)."""
    return "met" if (value >= limit if at_least else value <= limit) else "missed"


def goals(results: list[dict], projected: dict | None, loader_benches: dict[str, dict]) -> str:
    """Each goal of the daily run at each scale: the figure, the goal, met or missed."""
    lines = [
        "Goals of the daily run:",
        "",
        "| goal | " + " | ".join(r["scale"] for r in results) + " |",
        "|---" * (len(results) + 1) + "|",
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    limit = GOALS["daily_over_full"]
    row(
        f"daily run ≤ {limit:.0%} of a full build",
        [f"{r['daily_over_full']:.3f}: {_verdict(r['daily_over_full'], limit)}" for r in results],
    )
    limit = GOALS["rerun_over_full"]
    row(
        f"rerun with nothing new ≤ {limit:.0%} of a full build",
        [f"{r['rerun_over_full']:.3f}: {_verdict(r['rerun_over_full'], limit)}" for r in results],
    )
    for label, goal in (
        ("daily run", "daily_over_full"),
        ("rerun with nothing new", "rerun_over_full"),
    ):
        limit = GOALS[goal]
        row(
            f"{label} in a fresh process (as a schedule starts it) ≤ {limit:.0%} of a full build",
            [
                f"{r[f'fresh_{goal}']:.3f}: {_verdict(r[f'fresh_{goal}'], limit)}"
                if r.get("fresh")
                else "-"
                for r in results
            ],
        )
    limit = GOALS["peak_rss_mb"]
    row(
        f"peak RSS ≤ {limit / 1000:.0f} GB (at M)",
        [
            f"{r['peak_rss_mb']:,.0f} MB"
            + (f": {_verdict(r['peak_rss_mb'], limit)}" if r["scale"] == "M" else "")
            for r in results
        ],
    )
    limit = GOALS["loader_ratio"]
    for name in ("crm", "wecom", "u8", "sheets"):
        row(
            f"loader {name} ≥ {limit} × a direct read",
            [
                f"{r['loaders'][name]['ratio']:.2f}: "
                + _verdict(r["loaders"][name]["ratio"], limit, at_least=True)
                for r in results
            ],
        )
    for file, label in LOADER_BENCHES.items():
        if file in loader_benches:
            ratio = loader_benches[file]["ratio"]
            verdict = _verdict(ratio, limit, at_least=True)
            row(f"{label}, ≥ {limit} × a direct read", [f"{ratio:.2f}: {verdict}"] * len(results))
    if projected:
        limit = GOALS["projected_daily_minutes"]
        minutes = projected["daily_minutes"]
        row(
            f"daily run at {TARGET['reps']:,} reps × {TARGET['months']} months ≤ {limit:.0f} min"
            " (projected)",
            [f"{minutes:.1f} min: {_verdict(minutes, limit)}"] * len(results),
        )
    return "\n".join(lines)


def _step_parts(run: dict, shares: bool) -> list[str]:
    """A run's steps, longest first, then the time outside them: "name 1.2 s", with each
    one's share of the run ("(12%)") when ``shares``."""
    total = run["seconds"]

    def part(name: str, secs: float) -> str:
        return f"{name} {secs:.1f} s" + (f" ({secs / total:.0%})" if shares else "")

    steps = sorted(run["stages"].items(), key=lambda kv: -kv[1])
    rest = total - sum(run["stages"].values())
    return [
        *(part(name, secs) for name, secs in steps if secs),
        part("outside the steps (stamps, plan, Dagster)", rest),
    ]


def spending(results: list[dict]) -> str:
    """What the daily run spends its time on, per scale: its steps, largest first, the dbt
    build's own time and its heaviest models."""
    lines = ["What the daily run spends its time on:", ""]
    for r in results:
        daily = r["daily"]
        total = daily["seconds"]
        parts = _step_parts(daily, shares=True)
        line = f"- {r['scale']}, {total:.1f} s: " + ", ".join(parts)
        build = daily.get("dbt_build")
        if build:
            line += (
                f". dbt's own build {build['elapsed_seconds']:.1f} s for {build['models']} models"
                f" and {build['tests']} tests"
            )
        models = list(daily.get("dbt_models", {}).items())[:8]
        if models:
            line += "; heaviest: " + ", ".join(f"{m} {t:.1f}" for m, t in models)
        lines.append(line + ".")
    return "\n".join(lines)


def floor(results: list[dict]) -> str:
    """What a daily run costs before its data: the daily run of the smallest scale measured,
    whose few new rows reach about as many models, tests and steps as a large scale's, set
    against each larger scale's full build and against the time the daily-run goal allows
    there. A larger scale's daily run reaches as much with more data to go through, so the
    smallest scale's is the nearest measure of a run's fixed cost; where it exceeds what the
    goal allows, no work on the day's own data can meet the goal."""
    small = min(results, key=lambda r: r["raw_rows"])
    daily = small["daily"]
    seconds = daily["seconds"]
    limit = GOALS["daily_over_full"]
    parts = _step_parts(daily, shares=False)
    build = daily.get("dbt_build")
    reached = f", dbt building {build['models']} models and {build['tests']} tests" if build else ""
    lines = [
        f"A daily run's cost before its data: at {small['scale']} ({small['raw_rows']:,} raw rows)"
        f" the daily run's {small['new_day_rows']:,} new rows took {seconds:.1f} s"
        f" ({', '.join(parts)}{reached}). Against the full build of each larger scale:",
        "",
    ]
    for r in results:
        if r["scale"] == small["scale"]:
            continue
        full = r["full"]["seconds"]
        allowed = limit * full
        verdict = "more than" if seconds > allowed else "within"
        lines.append(
            f"- {r['scale']}: {seconds / full:.3f} of its {full:.1f} s full build, {verdict} the"
            f" {allowed:.1f} s a daily run ≤ {limit:.0%} allows; its own daily run took"
            f" {r['daily']['seconds']:.1f} s, {r['daily']['seconds'] - seconds:.1f} s more."
        )
    return "\n".join(lines)


def growth(a: dict, b: dict) -> str:
    rows = (a["raw_rows"], b["raw_rows"])
    new = (a["new_day_rows"], b["new_day_rows"])
    full = exponent(a["full"]["seconds"], b["full"]["seconds"], *rows)
    rss = exponent(a["peak_rss_mb"], b["peak_rss_mb"], *rows)
    daily_hist = exponent(a["daily"]["seconds"], b["daily"]["seconds"], *rows)
    daily_new = exponent(a["daily"]["seconds"], b["daily"]["seconds"], *new)
    return (
        f"Growth {a['scale']} → {b['scale']} (cost ∝ rows^k; k = 1 is linear): full build "
        f"k = {full:.2f}, peak RSS k = {rss:.2f}; daily run k = {daily_hist:.2f} against the "
        f"history, {daily_new:.2f} against the day's new rows."
    )


def projections(results: list[dict], ref: dict) -> dict:
    """The lines fitted through the measured scales (full build and peak memory against raw
    rows, the daily run against the day's new rows), read at the target's size."""
    factor = TARGET["reps"] * TARGET["months"] / (ref["reps"] * ref["months"])
    rows_target = ref["raw_rows"] * factor
    day_target = ref["new_day_rows"] * TARGET["reps"] / ref["reps"]
    full = fit_line([(r["raw_rows"], r["full"]["seconds"]) for r in results])
    memory = fit_line([(r["raw_rows"], r["peak_rss_mb"]) for r in results])
    daily = fit_line([(r["new_day_rows"], r["daily"]["seconds"]) for r in results])
    return {
        "factor": factor,
        "rows": rows_target,
        "day_rows": day_target,
        "full_line": full,
        "memory_line": memory,
        "full_minutes": (full[0] + full[1] * rows_target) / 60,
        "rss_gb": (memory[0] + memory[1] * rows_target) / 1e3,
        "daily_minutes": (daily[0] + daily[1] * day_target) / 60,
    }


def projection(results: list[dict], ref: dict) -> str:
    """Lines fitted through the measured scales, read at the target's size."""
    p = projections(results, ref)

    def reps_at(intercept: float, slope: float, limit: float) -> str:
        """Reps (over the reference's months) at which a fitted line reaches ``limit``."""
        if slope <= 0:
            return "no limit in sight"
        rows = (limit - intercept) / slope
        return f"~{ref['reps'] * rows / ref['raw_rows']:,.0f} reps × {ref['months']} months"

    carry = (
        f" On this machine the lines reach a 10-minute full build at "
        f"{reps_at(*p['full_line'], MACHINE['full_seconds'])} and "
        f"{MACHINE['rss_mb'] / 1e3:.0f} GB of memory at "
        f"{reps_at(*p['memory_line'], MACHINE['rss_mb'])}."
    )
    return (
        f"Projection to {TARGET['reps']:,} reps × {TARGET['months']} months ({p['factor']:.0f}× "
        f"{ref['scale']}'s rep-months, ~{p['rows'] / 1e6:.0f}M raw rows; lines through "
        f"{', '.join(r['scale'] for r in results)}): full build ~{p['full_minutes']:.0f} min, "
        f"peak RSS ~{p['rss_gb']:.1f} GB, daily run ~{p['daily_minutes']:.1f} min for "
        f"~{p['day_rows']:,.0f} new rows a day." + carry
    )


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench")
    results = load(work)
    if not results:
        raise SystemExit(f"no pipeline_*.json under {work}/*/")
    print(report(results, load_loader_benches(work)))


if __name__ == "__main__":
    main()
