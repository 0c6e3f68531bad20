"""The spreadsheets source: Chinese or English headers, typed cells, quarantine that reconciles."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._reader import WorkSheetParser

from devkit.demo.generate import generate
from ingest.pipelines import make_pipeline
from ingest.sheets import (
    DEFAULTS_DIR,
    contract_findings,
    files_digest,
    load_notes,
    sheets_source,
)
from ingest.sheets.helpers import OPENPYXL_PARSE_DIMENSIONS, read_sheet
from ingest.sheets.settings import SHEETS


@pytest.fixture(scope="module")
def demo_sheets(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("org")
    generate(out, seed=5, scale="XS", as_of=date(2026, 11, 20))
    return out / "sheets"


def _load(folder: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    pipeline = make_pipeline("sheets", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    pipeline.run(sheets_source(dir=str(folder)))
    return duckdb.connect(str(tmp_path / "w.duckdb"))


def _write(path: Path, sheet: str, rows: list[list], saved_at: datetime | None = None) -> None:
    wb = Workbook()
    if saved_at is not None:  # a workbook saved again: its file properties differ
        # (openpyxl stamps ``modified`` with the clock on save, equal within one second)
        wb.properties.created = saved_at
        wb.properties.lastModifiedBy = f"saved {saved_at:%Y-%m-%d}"
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    wb.save(path)


def _load_report(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, int]:
    """Rows read, loaded and quarantined by the load of sheet table ``table``."""
    return con.execute(
        "select rows_read, rows_loaded, rows_quarantined from raw_sheets.sheet_load_report "
        "where table_name = ?",
        [table],
    ).fetchone()


def _refused(
    demo_sheets: Path, tmp_path: Path, table: str, workbook: str, rows: list[list]
) -> tuple[str, int]:
    """The demo workbooks loaded, then again with ``workbook`` (``file/sheet``), which feeds
    ``table``, rewritten to ``rows``: the table keeps the rows of the first load (asserted).
    The reason the second was refused with, and the rows kept."""
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    count = f"select count(*) from raw_sheets.{table}"
    con = _load(folder, tmp_path)
    before = con.execute(count).fetchone()[0]
    con.close()
    file, sheet = workbook.split("/")
    _write(folder / file, sheet, rows)
    con = _load(folder, tmp_path)
    assert con.execute(count).fetchone()[0] == before
    reason = con.execute(
        "select reason from raw_sheets.sheet_quarantine where table_name = ?", [table]
    ).fetchone()[0]
    con.close()
    return reason, before


def test_demo_workbooks_load_with_english_names_and_types(demo_sheets, tmp_path):
    con = _load(demo_sheets, tmp_path)
    tables = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema='raw_sheets'"
    ).fetchall()}  # fmt: skip
    assert {"org_reps", "stage_config", "targets", "settings", "legacy_visits",
            "dict_risk_words", "sheet_load_report"} <= tables  # fmt: skip
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_schema='raw_sheets' and table_name='stage_config'"
                             ).fetchall())  # fmt: skip
    assert types["stage_order"] == "BIGINT" and types["win_probability"].startswith("DECIMAL")
    assert con.execute(
        "select win_probability from raw_sheets.stage_config where stage='solution_demo'"
    ).fetchone()[0] == Decimal("0.6")
    report = con.execute(
        "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
        "from raw_sheets.sheet_load_report"
    ).fetchone()
    assert report[0] == report[1] and report[2] == 0


def test_bad_rows_are_quarantined_and_counts_reconcile(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    # English headers, another order, an extra column, a bad date and a blank required cell
    _write(folder / "legacy_visits.xlsx", "拜访记录", [
        ["customer_name", "Visit_Date", "rep_name", "duration_s", "备注"],
        ["上海恒达机械有限公司", "2026-03-02", "王伟", 1800, "带样品"],
        ["苏州瑞丰电子有限公司", "上周三", "王伟", 600, None],
        ["", "2026/3/4", "李娜", "45", None],
        ["杭州鼎盛软件有限公司", date(2026, 3, 5), "李娜", "3,600", None],
    ])  # fmt: skip
    con = _load(folder, tmp_path)
    visits = con.execute(
        "select customer_name, visit_date, duration_s, extra_columns::json->>'备注' "
        "from raw_sheets.legacy_visits order by visit_date"
    ).fetchall()
    assert visits == [
        ("上海恒达机械有限公司", date(2026, 3, 2), 1800, "带样品"),
        ("杭州鼎盛软件有限公司", date(2026, 3, 5), 3600, None),
    ]
    quarantine = con.execute(
        "select file, sheet, row_number, column_name, value, reason "
        "from raw_sheets.sheet_quarantine order by row_number"
    ).fetchall()
    assert quarantine[0][:5] == ("legacy_visits.xlsx", "拜访记录", 3, "Visit_Date", "上周三")
    assert "date" in quarantine[0][5]
    assert quarantine[1][2:4] == (4, "customer_name") and "blank" in quarantine[1][5]
    assert _load_report(con, "legacy_visits") == (4, 2, 2)


def test_missing_required_column_keeps_the_previous_snapshot(demo_sheets, tmp_path):
    reason, before = _refused(
        demo_sheets,
        tmp_path,
        "settings",
        "settings.xlsx/参数",
        [["参数", "说明"], ["response_red_hours", "x"]],
    )
    assert "值 (value)" in reason


def test_the_contract_reads_each_sheet_to_its_header_and_finds_what_a_full_read_finds(
    demo_sheets, tmp_path
):
    """The sheets' contract (checked before every load) reads each sheet only as far as its
    header, and finds what reading the whole sheet finds: missing required columns, extra
    columns, a missing sheet; never a problem of the rows under the header."""
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    _write(folder / "settings.xlsx", "参数", [["参数", "说明"], ["response_red_hours", "x"]])
    _write(folder / "legacy_visits.xlsx", "拜访记录", [
        ["日期", "员工", "客户", "方式", "内容", "时长(秒)", "区域"],
        [date(2026, 11, 2), "张伟", "华东机电", "电话", "报价", 60, "华东"],
        ["上周三", "张伟", "华东机电", "电话", "报价", 60, "华东"],
        [date(2026, 11, 3), "张伟", None, "电话", "报价", 60, "华东"],
    ])  # fmt: skip
    _write(folder / "targets.xlsx", "别的表", [["月份"], ["2026-11"]])
    _write(folder / "notes.xlsx", "Sheet", [["随手记"]])

    found = {(f.object, f.column, f.status) for f in contract_findings({"dir": str(folder)})}
    # the two rows under 拜访记录's header that a load quarantines are not the contract's
    assert found == {
        ("settings/参数", "值 (value)", "missing_required"),
        ("legacy_visits/拜访记录", "区域", "unknown"),
        ("targets/月度目标", None, "missing_object"),
        ("notes.xlsx", None, "unknown"),
    }
    for sheet in SHEETS:
        header, whole = read_sheet(folder, sheet, header_only=True), read_sheet(folder, sheet)
        if whole is None:
            assert header is None
            continue
        assert (header.status, header.extras, header.rows) == (whole.status, whole.extras, [])
        if whole.status != "loaded":
            assert header.quarantine == whole.quarantine


def test_a_scoring_sheet_without_signals_is_named_and_keeps_the_snapshot(demo_sheets, tmp_path):
    """线索评分 in the older layout (behaviour and points only): no row could score, so the
    sheet is refused by name rather than scoring every lead zero."""
    reason, before = _refused(
        demo_sheets,
        tmp_path,
        "scoring_behaviors",
        "scoring.xlsx/线索评分",
        [["行为", "分值"], ["访问报价页", 20]],
    )
    assert "信号 (signal_type)" in reason and before > 0


def test_a_day_count_that_is_not_a_number_is_quarantined_by_sheet_row_and_column(
    demo_sheets, tmp_path
):
    """A no_reply_days row whose 匹配 is not a whole number of days would stop the scoring
    model's cast: the row is quarantined naming sheet, row and column; the others load."""
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    _write(folder / "scoring.xlsx", "线索评分", [
        ["行为", "分值", "信号", "匹配"],
        ["访问报价页", 20, "landing_page", "报价"],
        ["三天未回复", -10, "no_reply_days", "三天"],
        ["五天未回复", -15, "no_reply_days", 5],
    ])  # fmt: skip
    con = _load(folder, tmp_path)
    rows = con.execute(
        "select behavior, match_value from raw_sheets.scoring_behaviors order by points desc"
    ).fetchall()
    assert rows == [("访问报价页", "报价"), ("五天未回复", "5")]
    quarantine = con.execute(
        "select file, sheet, row_number, column_name, value, reason "
        "from raw_sheets.sheet_quarantine where table_name = 'scoring_behaviors'"
    ).fetchall()
    assert len(quarantine) == 1
    assert quarantine[0][:5] == ("scoring.xlsx", "线索评分", 3, "匹配 (match_value)", "三天")
    assert "no_reply_days" in quarantine[0][5]
    assert _load_report(con, "scoring_behaviors") == (3, 2, 1)


def test_rerun_does_not_duplicate(demo_sheets, tmp_path):
    con = _load(demo_sheets, tmp_path)
    before = con.execute("select count(*) from raw_sheets.org_reps").fetchone()[0]
    con.close()
    con = _load(demo_sheets, tmp_path)
    assert con.execute("select count(*) from raw_sheets.org_reps").fetchone()[0] == before


# -- a load reads only the workbooks that changed ------------------------------------------------
SHEET_TABLES = tuple(s.table for s in SHEETS)


def _sheet_tables(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, list[tuple]]]:
    """Per sheet table: the load that wrote it and its rows (dlt's columns left out)."""
    out = {}
    for table in SHEET_TABLES:
        columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = "
            "'raw_sheets' and table_name = ? and not starts_with(column_name, '_dlt') "
            "order by ordinal_position", [table]
        ).fetchall()]  # fmt: skip
        relation = f"raw_sheets.{table}"
        load = con.execute(f"select max(_dlt_load_id) from {relation}").fetchone()[0]
        rows = con.execute(f"select {', '.join(columns)} from {relation} order by all").fetchall()
        out[table] = (load, rows)
    return out


def _latest_report(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute(
        "select coalesce(table_name, file), status from raw_sheets.sheet_load_report "
        "where _dlt_load_id = (select max(_dlt_load_id) from raw_sheets.sheet_load_report)"
    ).fetchall())  # fmt: skip


NEW_TARGETS = [["月份", "区域", "签约目标"], ["2026-12", "华东", 100], ["2026-12", "华南", 80]]
NEW_ORG = [["员工编号", "姓名", "区域", "角色"], ["R900", "张三", "华东", "rep"]]


def test_a_load_reads_only_the_sheets_whose_workbook_changed(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    first = _sheet_tables(_load(folder, tmp_path))
    assert all(load is not None for load, _ in first.values())

    _write(folder / "targets.xlsx", "月度目标", NEW_TARGETS)
    con = _load(folder, tmp_path)
    second = _sheet_tables(con)
    # the changed sheet has a new load and the new content; the others kept load and rows
    assert second["targets"][0] != first["targets"][0]
    assert [r[:2] for r in second["targets"][1]] == [(date(2026, 12, 1), "华东"),
                                                      (date(2026, 12, 1), "华南")]  # fmt: skip
    assert {t: v for t, v in second.items() if t != "targets"} == {
        t: v for t, v in first.items() if t != "targets"
    }
    assert _latest_report(con) == {"targets": "loaded"}
    con.close()

    # nothing changed (a workbook saved again, its cells the same): nothing read or written
    stamp = files_digest({"dir": str(folder)})
    before = (folder / "targets.xlsx").read_bytes()
    _write(folder / "targets.xlsx", "月度目标", NEW_TARGETS, saved_at=datetime(2030, 1, 2))
    assert (folder / "targets.xlsx").read_bytes() != before
    assert files_digest({"dir": str(folder)}) == stamp
    con = _load(folder, tmp_path)
    assert _sheet_tables(con) == second
    con.close()

    # a workbook deleted is a change: its sheets go back to the default, or empty
    (folder / "org.xlsx").unlink()
    (folder / "dictionary.xlsx").unlink()
    con = _load(folder, tmp_path)
    third = _sheet_tables(con)
    dictionary = ("dict_risk_words", "dict_competitors", "dict_effective_actions",
                  "dict_filler_patterns")  # fmt: skip
    assert _latest_report(con) == {
        "org_reps": "absent", "dict_risk_words": "default", "dict_competitors": "absent",
        "dict_effective_actions": "default", "dict_filler_patterns": "default",
    }  # fmt: skip
    assert third["org_reps"][1] == [] and third["dict_competitors"][1] == []
    words = next(s for s in SHEETS if s.table == "dict_risk_words")
    assert len(third["dict_risk_words"][1]) == len(read_sheet(DEFAULTS_DIR, words).rows)
    assert all(third[t][0] not in (None, second[t][0]) for t in dictionary if third[t][1])
    unchanged = [t for t in SHEET_TABLES if t != "org_reps" and t not in dictionary]
    assert {t: third[t] for t in unchanged} == {t: second[t] for t in unchanged}
    con.close()
    notes = load_notes(tmp_path / "w.duckdb")
    assert "sheets: no org sheet: the reps are the CRM users, their region unknown" in notes
    assert "sheets: no workbook for dict_competitors, org_reps: empty" in notes

    # a full refresh reads every sheet again
    pipeline = make_pipeline("sheets", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    pipeline.run(sheets_source(dir=str(folder), reread=True))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    fourth = _sheet_tables(con)
    assert set(_latest_report(con)) == set(SHEET_TABLES)
    assert {t: v[1] for t, v in fourth.items()} == {t: v[1] for t, v in third.items()}
    assert all(fourth[t][0] not in (None, third[t][0]) for t in SHEET_TABLES if fourth[t][1])
    con.close()


def test_a_failed_load_or_an_older_warehouse_reads_the_sheets_again(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    con = _load(folder, tmp_path)
    first = _sheet_tables(con)
    con.close()
    shutil.copy(tmp_path / "w.duckdb", tmp_path / "backup.duckdb")

    # the org changes and the targets workbook breaks: the load fails, nothing of it lands
    _write(folder / "org.xlsx", "销售团队", NEW_ORG)
    (folder / "targets.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(PipelineStepFailed):
        _load(folder, tmp_path)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert _sheet_tables(con) == first
    con.close()

    # extracted but never loaded (the process stopped, its package dropped)
    _write(folder / "targets.xlsx", "月度目标", NEW_TARGETS)
    pipeline = make_pipeline("sheets", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    pipeline.extract(sheets_source(dir=str(folder)))
    pipeline.normalize()
    pipeline.abort_packages()

    # the next load reads both again and lands them; the rest stands
    con = _load(folder, tmp_path)
    after = _sheet_tables(con)
    assert _latest_report(con) == {"org_reps": "loaded", "targets": "loaded"}
    assert [r[:4] for r in after["org_reps"][1]] == [("R900", "张三", "华东", None)]
    assert len(after["targets"][1]) == 2
    rest = [t for t in SHEET_TABLES if t not in ("org_reps", "targets")]
    assert {t: after[t] for t in rest} == {t: first[t] for t in rest}
    con.close()

    # the warehouse put back as it was after the first load (a backup), the pipeline's state
    # on this machine kept: what changed since is read again
    shutil.copy(tmp_path / "backup.duckdb", tmp_path / "w.duckdb")
    con = _load(folder, tmp_path)
    assert _latest_report(con) == {"org_reps": "loaded", "targets": "loaded"}
    assert _sheet_tables(con)["org_reps"][1] == after["org_reps"][1]
    con.close()


# -- malformed workbooks: each names its problem and loses no good row ---------------------------
def _targets(con) -> list[tuple]:
    return con.execute(
        "select strftime(month, '%Y-%m'), region, rep_id, booking_target, collection_target "
        "from raw_sheets.targets order by all"
    ).fetchall()


def _reason(con, table: str) -> tuple:
    return con.execute(
        "select file, sheet, row_number, column_name, value, reason "
        "from raw_sheets.sheet_quarantine where table_name = ? "
        "order by loaded_at desc, row_number limit 1",
        [table],
    ).fetchone()


def test_merged_header_cells_over_two_rows_load(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    wb = Workbook()
    ws = wb.active
    ws.title = "月度目标"
    ws.append(["月份", "区域", "员工编号", "目标", None])
    ws.append([None, None, None, "签约目标", "回款目标"])
    ws.append(["2026-10", "华东", "S001", 300000, 200000])
    ws.append(["2026-10", None, "S002", 250000, 150000])  # 区域 merged down from the row above
    ws.append(["2026-11", "华南", "S003", 280000, 180000])
    for cells in ("A1:A2", "B1:B2", "C1:C2", "D1:E1", "B3:B4"):
        ws.merge_cells(cells)
    wb.save(folder / "targets.xlsx")
    con = _load(folder, tmp_path)
    assert _targets(con) == [
        ("2026-10", "华东", "S001", Decimal("300000.00"), Decimal("200000.00")),
        ("2026-10", "华东", "S002", Decimal("250000.00"), Decimal("150000.00")),
        ("2026-11", "华南", "S003", Decimal("280000.00"), Decimal("180000.00")),
    ]
    assert con.execute(
        "select rows_read, rows_loaded, rows_quarantined, status from raw_sheets.sheet_load_report "
        "where table_name = 'targets'"
    ).fetchone() == (3, 3, 0, "loaded")


def test_a_merged_header_hiding_a_required_column_is_named_and_keeps_the_snapshot(
    demo_sheets, tmp_path
):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    before = _targets(_load(folder, tmp_path))
    wb = Workbook()
    ws = wb.active
    ws.title = "月度目标"
    ws.append(["月份", None, "员工编号", "签约目标", "回款目标"])  # 月份 merged over 区域
    ws.append(["2026-10", "华东", "S001", 300000, 200000])
    ws.merge_cells("A1:B1")
    wb.save(folder / "targets.xlsx")
    con = _load(folder, tmp_path)
    assert _targets(con) == before
    file, sheet, row, column, _, reason = _reason(con, "targets")
    assert (file, sheet, row) == ("targets.xlsx", "月度目标", 1)
    assert column == "区域 (region)" and "required column(s) missing" in reason


def test_an_empty_sheet_is_named_and_keeps_the_snapshot(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    before = _targets(_load(folder, tmp_path))
    _write(folder / "targets.xlsx", "月度目标", [])
    con = _load(folder, tmp_path)
    assert _targets(con) == before
    assert _reason(con, "targets")[:2] == ("targets.xlsx", "月度目标")
    assert _reason(con, "targets")[5] == "the sheet is empty"
    # only the changed workbook was read again: the others stand as the first load left them
    statuses = dict(con.execute(
        "select table_name, status from raw_sheets.sheet_load_report "
        "where loaded_at = (select max(loaded_at) from raw_sheets.sheet_load_report)"
    ).fetchall())  # fmt: skip
    assert statuses == {"targets": "empty"}
    newest = dict(con.execute(
        "select table_name, status from raw_sheets.sheet_load_report "
        "qualify loaded_at = max(loaded_at) over (partition by table_name)"
    ).fetchall())  # fmt: skip
    assert newest.pop("targets") == "empty"
    assert set(newest.values()) == {"loaded"}


def test_a_renamed_column_is_named_and_keeps_the_snapshot(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    before = _targets(_load(folder, tmp_path))
    _write(folder / "targets.xlsx", "月度目标", [
        ["月度", "区域", "员工编号", "签约目标", "回款目标"],  # 月份 renamed
        ["2026-10", "华东", "S001", 300000, 200000],
    ])  # fmt: skip
    con = _load(folder, tmp_path)
    assert _targets(con) == before
    file, sheet, row, column, _, reason = _reason(con, "targets")
    assert (file, sheet, row, column) == ("targets.xlsx", "月度目标", 1, "月份 (month)")
    assert "missing" in reason


def test_text_in_a_number_column_quarantines_that_row_only(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    _write(folder / "targets.xlsx", "月度目标", [
        ["月份", "区域", "员工编号", "签约目标", "回款目标"],
        ["2026-10", "华东", "S001", 300000, 200000],
        ["2026-10", "华东", "S002", "三十万", 200000],
        ["2026-11", "华南", "S003", "280,000", None],
    ])  # fmt: skip
    con = _load(folder, tmp_path)
    assert [r[2] for r in _targets(con)] == ["S001", "S003"]
    file, sheet, row, column, value, reason = _reason(con, "targets")
    assert (file, sheet, row, column) == ("targets.xlsx", "月度目标", 3, "签约目标")
    assert value == "三十万"
    assert "number" in reason
    assert con.execute(
        "select rows_read, rows_loaded, rows_quarantined from raw_sheets.sheet_load_report "
        "where table_name = 'targets'"
    ).fetchone() == (3, 2, 1)


# -- defaults: a company without (some of) the sheets -------------------------------------------
def _settings(con) -> dict[str, str]:
    return dict(con.execute("select name, value from raw_sheets.settings").fetchall())


def test_without_a_folder_every_sheet_is_its_default_or_empty(tmp_path):
    pipeline = make_pipeline("sheets", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    pipeline.run(sheets_source(dir=None))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    settings = _settings(con)
    assert (settings["response_green_hours"], settings["response_red_hours"]) == ("12", "24")
    assert (settings["stagnation_alert_days"], settings["stagnation_escalate_days"]) == ("3", "7")
    assert [settings[f"phi_weight_{w}"] for w in ("response", "key_action", "info")] == [
        "30", "40", "30"
    ]  # fmt: skip
    stages = dict(con.execute(
        "select crm_stage_name, stage || ' ' || win_probability from raw_sheets.stage_config"
    ).fetchall())  # fmt: skip
    assert stages["Prospecting"] == stages["Qualification"] == "lead_confirmed 0.1000"
    assert stages["Needs Analysis"] == "needs_diagnosed 0.3500"
    assert stages["Proposal/Price Quote"] == "quote_negotiation 0.8000"
    assert stages["Closed Won"] == "contract_signed 0.9500"
    assert stages["Closed Lost"] == "lost 0.0000"
    assert len(stages) == 10
    # sheets the project has no default for land empty, so every model still finds its table
    for table in ("org_reps", "targets", "dict_competitors", "legacy_visits"):
        assert con.execute(f"select count(*) from raw_sheets.{table}").fetchone()[0] == 0
    report = dict(con.execute(
        "select table_name, status from raw_sheets.sheet_load_report"
    ).fetchall())  # fmt: skip
    assert report["settings"] == report["stage_config"] == "default"
    assert report["org_reps"] == "absent"
    con.close()
    notes = load_notes(tmp_path / "w.duckdb")
    assert "sheets: no org sheet: the reps are the CRM users, their region unknown" in notes
    assert any(n.startswith("sheets: no workbook for ") and "settings" in n for n in notes)


def test_a_companys_sheet_overrides_the_default_settings_per_row(tmp_path):
    folder = tmp_path / "sheets"
    folder.mkdir()
    _write(folder / "settings.xlsx", "参数", [
        ["参数", "值"], ["response_green_hours", 8], ["stagnation_alert_days", "三天"],
    ])  # fmt: skip
    _write(folder / "stage_config.xlsx", "阶段配置", [
        ["CRM阶段名", "标准阶段", "顺序", "赢单概率"],
        ["初步接洽", "lead_confirmed", 1, "20%"],
    ])  # fmt: skip
    con = _load(folder, tmp_path)
    settings = _settings(con)
    assert settings["response_green_hours"] == "8"  # the company's row
    assert settings["response_red_hours"] == "24"  # the default of a row it leaves out
    # a threshold that is not a number is quarantined, named, and its default applies
    assert settings["stagnation_alert_days"] == "3"
    assert _reason(con, "settings")[2:5] == (3, "值 (value)", "三天")
    # a company's own stage map replaces the default one whole
    assert con.execute("select crm_stage_name from raw_sheets.stage_config").fetchall() == [
        ("初步接洽",)
    ]
    status, read, loaded, defaulted = con.execute(
        "select status, rows_read, rows_loaded, rows_defaulted from raw_sheets.sheet_load_report "
        "where table_name = 'settings'"
    ).fetchone()
    assert (status, read, loaded) == ("loaded", 2, 1)
    assert defaulted == len(settings) - 1


def test_a_file_that_matches_no_sheet_is_reported(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    (folder / "org.xlsx").rename(folder / "org.csv")
    (folder / "~$settings.xlsx").write_bytes(b"")  # Excel's lock file: not a sheet, not reported
    con = _load(folder, tmp_path)
    file, status, reason = con.execute(
        "select file, status, reason from raw_sheets.sheet_load_report "
        "where status = 'unknown_file'"
    ).fetchone()
    assert (file, status) == ("org.csv", "unknown_file")
    assert "matches no known sheet" in reason and "org.xlsx (sheet 销售团队)" in reason
    assert "销售团队.csv" in reason
    con.close()
    # and the run summary says so (the ingest step logs these notes as warnings)
    assert f"sheets: org.csv {reason}" in load_notes(tmp_path / "w.duckdb")


def test_a_formula_without_a_saved_value_is_named_with_how_to_fix_it(demo_sheets, tmp_path):
    folder = tmp_path / "sheets"
    shutil.copytree(demo_sheets, folder)
    # openpyxl writes formulas without their values, as any program that never ran Excel does
    _write(folder / "targets.xlsx", "月度目标", [
        ["月份", "区域", "员工编号", "签约目标", "回款目标"],
        ["2026-10", "华东", "S001", 300000, 200000],
        ["2026-10", "华东", "S002", "=D2*1.1", "=E2"],
        ["2026-11", "华南", "S003", 280000, None],
    ])  # fmt: skip
    con = _load(folder, tmp_path)
    assert [r[2] for r in _targets(con)] == ["S001", "S003"]
    file, sheet, row, column, value, reason = _reason(con, "targets")
    assert (file, sheet, row, column, value) == (
        "targets.xlsx",
        "月度目标",
        3,
        "签约目标",
        "=D2*1.1",
    )
    assert "formula with no saved value" in reason and "save it" in reason
    assert "blank" not in reason


def test_a_date_cell_holding_excels_serial_number_reads_as_that_day():
    """A workbook saved without the date format keeps Excel's day number (days since
    1899-12-30); a number outside the plausible years is refused, not read as some day."""
    from ingest.sheets.helpers import CellError, to_value

    assert to_value(45000, "date") == date(2023, 3, 15)
    assert to_value(45000.75, "date") == date(2023, 3, 15)  # a time of day is dropped
    assert to_value(45000, "month") == date(2023, 3, 1)
    with pytest.raises(CellError, match="not a date"):
        to_value(12, "date")


def test_text_dates_and_months_read_as_each_format_reads_them():
    """Text dates and months ("2026-03-15", "2026/3/5", "2026-03", "2026年3月") read as the
    first of the sheets' formats that takes them reads them, whatever way the reader gets
    there; text that is no such day or month is refused with the same reason."""
    from ingest.sheets.helpers import _DATE_FORMATS, _MONTH_FORMATS, CellError, to_value

    def by_formats(text: str, kind: str) -> date | str:
        text = text.strip()  # as a cell is read
        for fmt in _DATE_FORMATS + (_MONTH_FORMATS if kind == "month" else ()):
            try:
                day = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            return day.replace(day=1) if kind == "month" else day
        if kind == "date" and any(_parses(text, fmt) for fmt in _MONTH_FORMATS):
            return "a month, not a date"
        return "not a date"

    texts = [
        f"{y}{a}{m}{b}{d}"
        for y in ("2026", "1999", "0000", "26", "２０２６")
        for m in ("3", "03", "12", "13", "0", "00", "003")
        for d in ("", "5", "05", "29", "30", "31", "32", "0", " 5", "5 ")
        for a, b in (("-", "-"), ("/", "/"), (".", "."), ("-", "/"), ("/", "-"))
        if d or a == b == "-"
    ]
    texts += ["2026年3月5日", "2026年03月", "2024-02-29", "2025-02-29", "2026-03-05 08:30:00"]
    texts += ["2026-3", "2026/3", "2026.3", " 2026-03-05", "2026-03-05T00:00", "03/05/2026"]
    assert len(texts) > 600
    for text in texts:
        for kind in ("date", "month"):
            expected = by_formats(text, kind)
            if isinstance(expected, date):
                assert to_value(text, kind) == expected, (text, kind)
            else:
                with pytest.raises(CellError, match=expected):
                    to_value(text, kind)


def _parses(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def test_a_sheet_loaded_without_its_report_is_read_again_by_the_next_load(demo_sheets, tmp_path):
    """A load of some tables only (Dagster materialising a subset) without the report: the
    digests are not kept, so the next load reads those sheets again and reports them."""
    pipeline = make_pipeline("sheets", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    pipeline.run(sheets_source(dir=str(demo_sheets)).with_resources("targets", "org_reps"))
    con = _load(demo_sheets, tmp_path)
    assert set(_latest_report(con)) == set(SHEET_TABLES)
    con.close()
    con = _load(demo_sheets, tmp_path)  # nothing changed since: nothing read, nothing reported
    assert con.execute("select count(*) from raw_sheets.sheet_load_report").fetchone()[0] == 12
    con.close()


class _Counted:
    """A file object that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        self._stream, self.read_bytes = io.BytesIO(data), 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.read_bytes += len(chunk)
        return chunk


def test_a_sheets_size_is_read_from_before_its_cells_with_openpyxls_answer(tmp_path):
    # a workbook as Excel and WPS write it (with <dimension>), one written by a program
    # streaming rows (without), and empty sheets of both
    rows = [[f"代表{i}", i, date(2026, 1, 1 + i % 28), None, i * 1.5] for i in range(20_000)]
    saved, streamed = Workbook(), Workbook(write_only=True)
    for book in (saved, streamed):
        big = book.active if book is saved else book.create_sheet("big")
        big.title = "big"
        for row in rows:
            big.append(row)
        book.create_sheet("empty")
        book.create_sheet("small").append(["a", None, "c"])
    saved.save(tmp_path / "saved.xlsx")
    streamed.save(tmp_path / "streamed.xlsx")
    answers = {}
    for name in ("saved.xlsx", "streamed.xlsx"):
        with zipfile.ZipFile(tmp_path / name) as zf:
            for part in sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")):
                xml = zf.read(part)
                ours = _Counted(xml)
                answer = WorkSheetParser(ours, []).parse_dimensions()
                assert answer == OPENPYXL_PARSE_DIMENSIONS(WorkSheetParser(io.BytesIO(xml), []))
                answers[(name, part)] = answer
                if len(xml) > 1 << 20:  # the big sheet: its size is known before its cells
                    assert ours.read_bytes < 1 << 17, (name, part, ours.read_bytes, len(xml))
    assert answers[("saved.xlsx", "xl/worksheets/sheet1.xml")] == (1, 1, 5, 20_000)
    assert answers[("streamed.xlsx", "xl/worksheets/sheet1.xml")] is None  # none declared
    # and the streamed workbook reads as the saved one does
    for name in ("saved.xlsx", "streamed.xlsx"):
        wb = load_workbook(tmp_path / name, read_only=True, data_only=True)
        assert [r for r in wb["big"].iter_rows(values_only=True)][-1][:2] == ("代表19999", 19999)
        wb.close()
