"""The model-rewrite benchmark compiles a model on two sides, runs both on a built warehouse and
says whether their rows are the same: equal sides pass, a rewrite that changes rows fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = "rpt_pipeline_waterfall"

pytestmark = pytest.mark.slow


def rewrite(old: Path, new: Path, warehouse: Path, as_of: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(ROOT / "bench" / "bench_model_rewrite.py"), MODEL]
    command += ["--old", str(old), "--new", str(new), "--warehouse", str(warehouse)]
    command += ["--as-of", as_of, "--repeat", "2"]
    env = {key: value for key, value in os.environ.items() if key != "SALESOPS_WAREHOUSE"}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)


def table_row(stdout: str) -> list[str]:
    rows = [line for line in stdout.splitlines() if line.startswith(f"| {MODEL} |")]
    assert len(rows) == 1, stdout
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_a_rewrite_is_timed_and_its_rows_compared(demo_run, tmp_path):
    warehouse = demo_run.config.warehouse
    as_of = demo_run.config.as_of.isoformat()
    before = warehouse.stat().st_mtime_ns

    same = rewrite(ROOT / "dbt_project", ROOT / "dbt_project", warehouse, as_of)
    assert same.returncode == 0, same.stdout[-2000:] + same.stderr[-3000:]
    _, old_s, new_s, _, rows_old, rows_new, only_old, only_new = table_row(same.stdout)
    assert float(old_s) > 0 and float(new_s) > 0
    assert int(rows_old) == int(rows_new) > 0 and only_old == only_new == "0"

    # a "rewrite" that returns every row twice
    changed = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", changed, ignore=shutil.ignore_patterns("target", "logs"))
    model = next(changed.rglob(f"{MODEL}.sql"))
    text = model.read_text(encoding="utf-8")
    assert text.rstrip().endswith("select * from final")
    model.write_text(text + "\nunion all\nselect * from final\n", encoding="utf-8")

    differs = rewrite(ROOT / "dbt_project", changed, warehouse, as_of)
    assert differs.returncode == 1, differs.stdout[-2000:] + differs.stderr[-3000:]
    _, _, _, _, rows_old, rows_new, only_old, only_new = table_row(differs.stdout)
    assert int(rows_new) == 2 * int(rows_old) and only_old == "0" and only_new == rows_old
    assert f"rows differ: {MODEL}" in differs.stderr
    # the warehouse it was given is read through a copy, never written
    assert warehouse.stat().st_mtime_ns == before
