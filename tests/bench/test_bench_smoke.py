"""The pipeline benchmark runs end to end at scale XS (the smallest org, without the site build)
and its report tabulates the result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402

pytestmark = pytest.mark.slow
STAGES = {"load crm", "load wecom", "load u8", "load sheets", "dbt", "checks"}


def test_pipeline_benchmark_at_scale_xs(tmp_path):
    work = tmp_path / "bench"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_pipeline.py"),
            "XS",
            str(work / "XS"),
            "--no-bi",
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path / "dh")},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    data = json.loads((work / "XS" / "pipeline_XS.json").read_text(encoding="utf-8"))
    assert data["scale"] == "XS" and data["reps"] > 0
    assert data["raw_rows"] > 1_000 and data["new_day_rows"] > 0
    # every stage of the full build was timed and its memory sampled; the daily run loads only
    # the sources with something new (a source whose stamp is unchanged is left out of the run)
    assert set(data["full"]["stages"]) >= STAGES
    daily = data["daily"]
    landed = {f"load {s}" for s, n in daily["rows_landed"].items() if n > 0}
    assert set(daily["stages"]) >= landed | {"dbt", "checks"}, (daily["stages"], landed)
    assert set(data["full"]["peak_rss_mb"]) >= STAGES
    assert data["peak_rss_mb"] > 100
    # a full build lands every source; the daily run lands only the new day
    assert all(data["full"]["rows_landed"][s] > 0 for s in ("crm", "wecom", "u8", "sheets"))
    assert 0 < data["daily"]["rows_landed"]["crm"] < data["full"]["rows_landed"]["crm"]
    # nothing new, nothing landed (the sheets keep a load report per run, hence not them)
    assert all(data["rerun"]["rows_landed"][s] == 0 for s in ("crm", "wecom", "u8"))
    assert 0 < data["daily_over_full"] < 2
    # the next day and a rerun, each in a fresh `salesops run` process as a schedule starts
    # them: the second day landed rows, the rerun none, and a fresh process costs more than a
    # rerun in the process that ran before
    fresh = data["fresh"]
    assert fresh["daily"]["rows_landed"] > 0 and fresh["rerun"]["rows_landed"] == 0
    assert fresh["rerun"]["seconds"] > data["rerun"]["seconds"]
    assert data["fresh_rerun_over_full"] == fresh["rerun"]["seconds"] / data["full"]["seconds"]
    # each loader read the same files DuckDB read directly
    for name, loader in data["loaders"].items():
        assert loader["rows"] > 0 and loader["direct_rows"] > 0, name
        assert loader["ratio"] > 0, name
    # the hand-written twin of fct_activities computed exactly the model's rows
    twin = data["handwritten"]
    assert twin["model"] == "fct_activities" and twin["rows"] > 0
    assert twin["rows_differing"] == 0 and twin["ratio"] > 0
    # and after the daily run the incremental model still equals it, row for row
    after = data["daily"]["handwritten"]
    assert after["rows"] > twin["rows"] and after["rows_differing"] == 0
    assert "daily ÷ full" in result.stdout and "fct_activities" in result.stdout

    # what the daily build spent: dbt's own time, its models and tests, model by model
    build = daily["dbt_build"]
    assert build["elapsed_seconds"] > 0 and build["models"] > 0 and build["tests"] > 0
    assert len(daily["dbt_models"]) == build["models"]

    table = report.report(report.load(work))
    assert "| **daily ÷ full** |" in table and "loader crm ÷ direct read" in table
    assert f"{data['raw_rows']:,}" in table
    # each goal of the daily run with its verdict, and where the daily run's time went
    assert f"| daily run ≤ 5% of a full build | {data['daily_over_full']:.3f}: " in table
    assert (
        "| rerun with nothing new in a fresh process (as a schedule starts it) ≤ 3% of a full"
        f" build | {data['fresh_rerun_over_full']:.3f}: " in table
    )
    heaviest = next(iter(daily["dbt_models"]))
    assert f"- XS, {daily['seconds']:.1f} s: " in table and f"heaviest: {heaviest} " in table
