"""The pipeline benchmark runs end to end (at XS, without the site build, to stay quick)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_benchmark_smoke(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_pipeline.py"), "XS", str(tmp_path), "--no-bi"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path / "dh")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| **whole run** |" in result.stdout and "daily ÷ full" in result.stdout
    data = json.loads((tmp_path / "pipeline_XS.json").read_text(encoding="utf-8"))
    assert data["raw_rows"] > 1000 and data["new_day_rows"] > 0
    assert {"load crm", "load wecom", "load u8", "load sheets", "dbt", "checks"} <= set(
        data["full"]["stages"]
    )
    assert 0 < data["daily_over_full"] < 2 and data["peak_rss_mb"] > 0
