"""What a run costs when little is new: a run with nothing new builds nothing (the sheets are
not read again, dbt and the checks do not run, and the run says so); a changed keyword sheet
rebuilds the activity timeline from all history in the next run, as a full refresh would."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from devkit.demo.serve import served_sources
from orchestration import runner
from salesops import config as salesops_config

pytestmark = pytest.mark.slow
AS_OF = date(2026, 11, 20)


def copy_of(run, root: Path) -> tuple[Path, Path]:
    """The run's warehouse, dlt state and spreadsheets, copied into ``root``."""
    shutil.copy(run.config.warehouse, root / "warehouse.duckdb")
    shutil.copytree(run.config.pipelines_dir, root / ".dlt_pipelines")
    shutil.copytree(run.sources / "sheets", root / "sheets")
    return root / "warehouse.duckdb", root / "sheets"


def write_config(root: Path, warehouse: Path, sections: dict, sheets: Path) -> Path:
    sections = {**sections, "sheets": {"dir": str(sheets)}}
    cfg = salesops_config.from_dict(
        {"warehouse": {"path": str(warehouse)}, "as_of": AS_OF.isoformat(), "sources": sections},
        base=root,
    )
    path = root / f"{warehouse.stem}.yml"
    path.write_text(salesops_config.dump(cfg), encoding="utf-8")
    return path


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def drop_keyword(workbook: Path, keyword: str) -> None:
    wb = openpyxl.load_workbook(workbook)
    ws = wb["有效动作"]
    for row in range(ws.max_row, 1, -1):
        if str(ws.cell(row, 1).value).strip() == keyword:
            ws.delete_rows(row)
    wb.save(workbook)


def test_nothing_new_builds_nothing_and_a_keyword_change_refreshes(
    clean_org_run, tmp_path, monkeypatch
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    warehouse, sheets = copy_of(clean_org_run, tmp_path)
    reports = "select count(*) from raw_sheets.sheet_load_report"
    timeline = "select * from marts.fct_activities order by all"
    loaded_before = query(warehouse, reports)
    activities_before = query(warehouse, timeline)
    lines: list[str] = []
    with served_sources(clean_org_run.sources, AS_OF, crm="export") as sections:
        config = write_config(tmp_path, warehouse, sections, sheets)

        rerun = runner.run(config, exclude_groups=("bi",), echo=lines.append)
        assert rerun.success, rerun.errors
        assert rerun.build_note and rerun.build_note.startswith("nothing new"), rerun.build_note
        # no dbt test and no GX suite ran: only the loads' own checks reported
        assert {c.rsplit(":", 1)[-1] for c in rerun.evaluated_checks} == {"loaded"}
        assert query(warehouse, reports) == loaded_before  # the sheets were not read again
        assert query(warehouse, timeline) == activities_before

        # the keyword matching the most substantive activities leaves the dictionary
        keyword = query(
            warehouse,
            "select k.keyword from staging.stg_sheets__effective_actions k "
            "join marts.fct_activities a on a.is_substantive "
            "and strpos(lower(a.subject), lower(k.keyword)) > 0 "
            "group by 1 order by count(*) desc, 1 limit 1",
        )[0][0]
        drop_keyword(sheets / "dictionary.xlsx", keyword)
        changed = runner.run(config, exclude_groups=("bi",), echo=lines.append)
        assert changed.success, changed.errors
        assert changed.build_note and "fct_activities" in changed.build_note, changed.build_note
        assert any(c.split(":")[-1].startswith("gx_") for c in changed.evaluated_checks)
        refreshed = query(warehouse, timeline)
        assert refreshed != activities_before

        # the same warehouse rebuilt by hand from all history holds the same timeline
        twin = tmp_path / "twin"
        twin.mkdir()
        shutil.copy(warehouse, twin / "twin.duckdb")
        full = runner.run(
            write_config(twin, twin / "twin.duckdb", sections, sheets),
            exclude_groups=("bi",),
            echo=lines.append,
            full_refresh=True,
        )
        assert full.success, full.errors
    assert refreshed == query(twin / "twin.duckdb", timeline)
