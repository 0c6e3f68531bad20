"""The spreadsheets source: Chinese or English headers, typed cells, quarantine that reconciles."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from devkit.demo.generate import generate
from ingest.pipelines import make_pipeline
from ingest.sheets import load_notes, sheets_source


@pytest.fixture(scope="module")
def demo_sheets(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("org")
    generate(out, seed=5, scale="XS", as_of=date(2026, 11, 20))
    return out / "sheets"


def _load(folder: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    pipeline = make_pipeline("sheets", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    pipeline.run(sheets_source(dir=str(folder)))
    return duckdb.connect(str(tmp_path / "w.duckdb"))


def _write(path: Path, sheet: str, rows: list[list]) -> None:
    wb = Workbook()
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
    # the other workbooks loaded as usual
    statuses = dict(con.execute(
        "select table_name, status from raw_sheets.sheet_load_report "
        "where loaded_at = (select max(loaded_at) from raw_sheets.sheet_load_report)"
    ).fetchall())  # fmt: skip
    assert statuses.pop("targets") == "empty"
    assert set(statuses.values()) == {"loaded"}


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
