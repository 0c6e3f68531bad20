"""A machine set to another time zone builds the same marts. A server in China runs on
Asia/Shanghai, ours on UTC; DuckDB's session time zone is the machine's unless the run pins
it, and a timestamp turned into text (a finding's details) then carried the machine's offset:
the same records, other rows, on every page that shows them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.demo.serve import served_sources
from tests.conftest import AS_OF
from tests.support.config import write_config
from tests.support.rows import same_rows
from tests.support.warehouse import query_file

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
# what records the run itself (when it loaded, when a gap was seen), not the sources
RUN_RECORDS = {
    "fct_metric_shares",
    "rpt_source_contract",
    "rpt_source_freshness",
    "rpt_source_loads",
}


def marts(warehouse: Path) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in query_file(
            warehouse,
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'ml') order by all",
        )
        if name not in RUN_RECORDS
    ]


def test_a_machine_on_another_time_zone_builds_the_same_marts(second_org_run, tmp_path):
    run = second_org_run
    with served_sources(run.sources, AS_OF, crm="export") as sections:
        config = write_config(tmp_path, tmp_path / "warehouse.duckdb", sections, AS_OF)
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "run", "--config", str(config), "--no-bi"],
            env={**os.environ, "TZ": "Asia/Shanghai", "DAGSTER_HOME": str(tmp_path)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ours, theirs = run.config.warehouse, tmp_path / "warehouse.duckdb"
    tables = marts(ours)
    assert "marts.dq_findings" in tables and marts(theirs) == tables
    # the findings' details name instants as text: what a machine's offset would change
    details = query_file(ours, "select details from marts.dq_findings where details like '%+00%'")
    assert len(details) > 10
    differing = [
        table
        for table in tables
        if not same_rows(
            query_file(theirs, f"select * from {table} order by all"),
            query_file(ours, f"select * from {table} order by all"),
        )
    ]
    assert differing == []
