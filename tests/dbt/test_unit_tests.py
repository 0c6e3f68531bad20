"""The dbt unit tests (hand-computed fixtures for every formula: response bands, PHI weights,
dwell, weighted pipeline, waterfall buckets). Pipeline runs leave them out (they check the SQL,
not the data), so they run here, against a warehouse that holds every relation they read
(WeCom included: the visit rule applies only where check-ins were loaded)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from salesops.dbt import dbt_executable

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_every_dbt_unit_test_passes(demo_run_with_wecom, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_run_with_wecom.config.warehouse, warehouse)
    target = tmp_path / "target"
    result = subprocess.run(
        [
            dbt_executable(),
            "test",
            "--select",
            "test_type:unit",
            "--vars",
            json.dumps({"as_of": demo_run_with_wecom.config.as_of.isoformat()}),
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(target),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "SALESOPS_WAREHOUSE": str(warehouse)},
    )
    assert result.returncode == 0, result.stdout[-4000:]
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    # every formula's unit test ran and passed
    assert len(unit_tests) >= 6
    assert all(r["status"] == "pass" for r in unit_tests), unit_tests
