"""Publishing the BI hand-off from a small hand-made warehouse: paths are never SQL text."""

from __future__ import annotations

from pathlib import Path

import duckdb

from salesops import publish


def _warehouse(path: Path) -> Path:
    """A warehouse with the tables publishing reads: one report, the rep dimension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.dim_rep as select * from (values "
        "('S001', '张伟', '华东', 'rep'), ('S002', '李娜', '华南', 'rep'), "
        "('S003', '=HYPERLINK(\"http://x\",\"y\")', '华东', 'rep')) "
        "t(rep_id, rep_name, region, rep_role)"
    )
    con.execute(
        "create table marts.rpt_lead_response as select * from (values "
        "('S001', '华东', 3), ('S002', '华南', 5)) t(rep_id, region, leads)"
    )
    con.execute(
        "create table marts.rpt_notes as select * from (values "
        + ", ".join(f"({i}, ?, '华东')" for i in range(len(NOTES)))
        + ") t(note_no, note, region)",
        list(NOTES),
    )
    con.close()
    return path


# text a spreadsheet would run (a CRM note, a rep's name), and text it would not
NOTES = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1": "'\t=1+1",
    "-2+3": "'-2+3",
    "-": "-",
    "-12.5": "-12.5",
}


def test_formula_looking_text_is_published_as_text(tmp_path):
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    bi_file = tmp_path / "warehouse_bi.duckdb"
    publish.publish_bi(warehouse, bi_file)
    con = duckdb.connect(str(bi_file), read_only=True)
    published = [
        n for (n,) in con.execute("select note from reporting.rpt_notes order by 1").fetchall()
    ]
    con.close()
    assert sorted(published) == sorted(NOTES.values())
    con = duckdb.connect(str(warehouse), read_only=True)
    kept = [n for (n,) in con.execute("select note from marts.rpt_notes order by 1").fetchall()]
    names = [
        n
        for (n,) in con.execute(
            "select rep_name from marts.dim_rep where rep_id = 'S003'"
        ).fetchall()
    ]
    con.close()
    assert sorted(kept) == sorted(NOTES)  # the warehouse keeps every text verbatim
    assert names == ['=HYPERLINK("http://x","y")']


def test_publishing_accepts_paths_with_a_quote_and_a_space(tmp_path):
    folder = tmp_path / "O'Brien's reports" / "销售 数据"
    warehouse = _warehouse(folder / "ware'house.duckdb")
    bi_file = folder / "bi 'out'" / "warehouse_bi.duckdb"
    counts = publish.publish_bi(warehouse, bi_file)
    assert counts == {"rpt_lead_response": 2, "rpt_notes": 7}
    assert publish.regions(warehouse) == ["华东", "华南"]
    region_file = folder / "bi 'out'" / "warehouse_bi.华东.duckdb"
    assert publish.publish_bi(warehouse, region_file, region="华东") == {
        "rpt_lead_response": 1,
        "rpt_notes": 7,
    }
    assert publish.published_regions(bi_file) == ["华东", "华南"]
    con = duckdb.connect(str(region_file), read_only=True)
    assert con.execute("select rep_id from reporting.rpt_lead_response").fetchall() == [("S001",)]
    con.close()


def test_hours_since_a_load_count_to_publishing_not_to_the_build(tmp_path):
    """A run with nothing new builds no model: the published freshness still counts on."""
    warehouse = _warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(warehouse))
    # as a build two days ago left it: crm loaded an hour before that build, u8 never
    con.execute(
        "create table marts.rpt_source_freshness as select * from (values "
        "('crm', current_timestamp - interval 49 hour, 1.0, 24.0, false), "
        "('u8', null::timestamptz, null::double, 24.0, true)) "
        "t(source_name, last_loaded_at, hours_since_load, max_hours, is_stale)"
    )
    con.close()
    bi_file = tmp_path / "warehouse_bi.duckdb"
    publish.publish_bi(warehouse, bi_file)
    con = duckdb.connect(str(bi_file), read_only=True)
    rows = con.execute(
        "select source_name, round(hours_since_load), is_stale "
        "from reporting.rpt_source_freshness order by 1"
    ).fetchall()
    con.close()
    assert rows == [("crm", 49.0, True), ("u8", None, True)]
