"""The benchmark report says of each goal of the daily run whether it is met, from the figures
of each scale, and adds the loaders' million-row results when they were run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import report  # noqa: E402


def _scale(scale: str, reps: int, full: float, daily: float, rerun: float, rss: float) -> dict:
    loaders = {
        name: {"ratio": ratio, "rows_per_s": 1.0, "direct_rows_per_s": 2.0}
        for name, ratio in (("crm", 0.5), ("wecom", 0.49), ("u8", 0.04), ("sheets", 0.7))
    }
    return {
        "scale": scale,
        "reps": reps,
        "months": 12,
        "raw_rows": reps * 10_000,
        "generate_seconds": 1.0,
        "new_day_rows": reps * 40,
        "full": {"seconds": full, "stages": {"dbt": full / 2}},
        "daily": {
            "seconds": daily,
            "stages": {"dbt": daily * 0.6, "load wecom": daily * 0.3},
            "dbt_build": {"elapsed_seconds": daily * 0.5, "models": 3, "tests": 5},
            "dbt_models": {"dq_findings": 4.0, "fct_activities": 3.0, "alerts": 1.0},
        },
        "rerun": {"seconds": rerun, "stages": {}},
        "daily_over_full": daily / full,
        "rerun_over_full": rerun / full,
        "new_data_over_full": (daily - rerun) / full,
        "peak_rss_mb": rss,
        "loaders": loaders,
        "heaviest_model": "dq_findings",
        "handwritten": None,
    }


def test_each_goal_is_met_or_missed_by_its_figure(tmp_path: Path):
    m = _scale("M", 500, full=200.0, daily=10.0, rerun=2.0, rss=3100)
    big = _scale("L", 100, full=100.0, daily=6.0, rerun=4.0, rss=2000)
    for name, result in (("crm", {"ratio": 0.55}), ("u8", {"ratio": 0.33})):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"bench_{name}.json").write_text(json.dumps(result), encoding="utf-8")

    m["fresh"] = {"daily": {"seconds": 16.0}, "rerun": {"seconds": 8.0}}
    m["fresh_daily_over_full"], m["fresh_rerun_over_full"] = 16.0 / 200.0, 8.0 / 200.0

    table = report.report([m, big], report.load_loader_benches(tmp_path))

    assert "| daily run ≤ 5% of a full build | 0.050: met | 0.060: missed |" in table
    assert "| rerun with nothing new ≤ 3% of a full build | 0.010: met | 0.040: missed |" in table
    assert "| peak RSS ≤ 3 GB (at M) | 3,100 MB: missed | 2,000 MB |" in table
    # the runs in a fresh process, as a schedule starts them (a result without them: "-")
    assert "| daily run in a fresh process (s) | 16.0 | - |" in table
    assert "| rerun with nothing new in a fresh process (s) | 8.0 | - |" in table
    assert (
        "| daily run in a fresh process (as a schedule starts it) ≤ 5% of a full build |"
        " 0.080: missed | - |" in table
    )
    assert (
        "| rerun with nothing new in a fresh process (as a schedule starts it) ≤ 3% of a full"
        " build | 0.040: missed | - |" in table
    )
    assert "| loader crm ≥ 0.5 × a direct read | 0.50: met | 0.50: met |" in table
    assert "| loader wecom ≥ 0.5 × a direct read | 0.49: missed | 0.49: missed |" in table
    assert "| CRM export, 1M-row Task.csv, ≥ 0.5 × a direct read | 0.55: met | 0.55: met |" in table
    assert "| U8, 1M lines, ≥ 0.5 × a direct read | 0.33: missed | 0.33: missed |" in table
    assert "≤ 5 min (projected) |" in table
    assert (
        "- M, 10.0 s: dbt 6.0 s (60%), load wecom 3.0 s (30%), outside the steps (stamps, plan,"
        " Dagster) 1.0 s (10%). dbt's own build 5.0 s for 3 models and 5 tests; heaviest:"
        " dq_findings 4.0, fct_activities 3.0, alerts 1.0." in table
    )


def test_the_smallest_scales_daily_run_is_set_against_each_larger_full_build():
    small = _scale("S", 24, full=40.0, daily=8.0, rerun=1.0, rss=900)
    m = _scale("M", 500, full=100.0, daily=30.0, rerun=2.0, rss=2800)
    big = _scale("L", 100, full=400.0, daily=12.0, rerun=2.0, rss=2000)

    table = report.report([small, m, big])

    assert (
        "A daily run's cost before its data: at S (240,000 raw rows) the daily run's 960 new"
        " rows took 8.0 s (dbt 4.8 s, load wecom 2.4 s, outside the steps (stamps, plan, Dagster)"
        " 0.8 s, dbt building"
        " 3 models and 5 tests). Against the full build of each larger scale:" in table
    )
    assert (
        "- M: 0.080 of its 100.0 s full build, more than the 5.0 s a daily run ≤ 5% allows;"
        " its own daily run took 30.0 s, 22.0 s more." in table
    )
    assert (
        "- L: 0.020 of its 400.0 s full build, within the 20.0 s a daily run ≤ 5% allows;"
        " its own daily run took 12.0 s, 4.0 s more." in table
    )
    assert "- S:" not in table.split("cost before its data")[1]
    # one scale alone has nothing to be set against
    assert "cost before its data" not in report.report([m])
