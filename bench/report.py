"""Tabulate ``bench_pipeline.py`` results of several scales (one ``make bench``): per-stage
time and memory, the ratios, how cost grows from one scale to the next, and a projection to
5,000 reps over 3 years.

Usage: ``python bench/report.py WORK_DIR`` (reads ``WORK_DIR/*/pipeline_<scale>.json``);
prints Markdown.
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


def load(work: Path) -> list[dict]:
    found = [json.loads(p.read_text(encoding="utf-8")) for p in work.glob("*/pipeline_*.json")]
    return sorted(found, key=lambda r: ORDER.index(r["scale"]) if r["scale"] in ORDER else 9)


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


def report(results: list[dict]) -> str:
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
    if len(big) >= 2:
        out.append(projection(big, by.get("M", big[-1])))
    return "\n".join(out)


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


def projection(results: list[dict], ref: dict) -> str:
    """Lines fitted through the measured scales, read at the target's size."""
    factor = TARGET["reps"] * TARGET["months"] / (ref["reps"] * ref["months"])
    rows_target = ref["raw_rows"] * factor
    day_target = ref["new_day_rows"] * TARGET["reps"] / ref["reps"]
    f0, f1 = fit_line([(r["raw_rows"], r["full"]["seconds"]) for r in results])
    m0, m1 = fit_line([(r["raw_rows"], r["peak_rss_mb"]) for r in results])
    d0, d1 = fit_line([(r["new_day_rows"], r["daily"]["seconds"]) for r in results])

    def reps_at(intercept: float, slope: float, limit: float) -> str:
        """Reps (over the reference's months) at which a fitted line reaches ``limit``."""
        if slope <= 0:
            return "no limit in sight"
        rows = (limit - intercept) / slope
        return f"~{ref['reps'] * rows / ref['raw_rows']:,.0f} reps × {ref['months']} months"

    carry = (
        f" On this machine the lines reach a 10-minute full build at "
        f"{reps_at(f0, f1, MACHINE['full_seconds'])} and {MACHINE['rss_mb'] / 1e3:.0f} GB of "
        f"memory at {reps_at(m0, m1, MACHINE['rss_mb'])}."
    )
    return (
        f"Projection to {TARGET['reps']:,} reps × {TARGET['months']} months ({factor:.0f}× "
        f"{ref['scale']}'s rep-months, ~{rows_target / 1e6:.0f}M raw rows; lines through "
        f"{', '.join(r['scale'] for r in results)}): full build "
        f"~{(f0 + f1 * rows_target) / 60:.0f} min, peak RSS "
        f"~{(m0 + m1 * rows_target) / 1e3:.1f} GB, daily run "
        f"~{(d0 + d1 * day_target) / 60:.1f} min for ~{day_target:,.0f} new rows a day." + carry
    )


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench")
    results = load(work)
    if not results:
        raise SystemExit(f"no pipeline_*.json under {work}/*/")
    print(report(results))


if __name__ == "__main__":
    main()
