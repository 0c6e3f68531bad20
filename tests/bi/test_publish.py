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
        "('S001', '张伟', '华东', 'rep'), ('S002', '李娜', '华南', 'rep')) "
        "t(rep_id, rep_name, region, rep_role)"
    )
    con.execute(
        "create table marts.rpt_lead_response as select * from (values "
        "('S001', '华东', 3), ('S002', '华南', 5)) t(rep_id, region, leads)"
    )
    con.close()
    return path


def test_publishing_accepts_paths_with_a_quote_and_a_space(tmp_path):
    folder = tmp_path / "O'Brien's reports" / "销售 数据"
    warehouse = _warehouse(folder / "ware'house.duckdb")
    bi_file = folder / "bi 'out'" / "warehouse_bi.duckdb"
    counts = publish.publish_bi(warehouse, bi_file)
    assert counts == {"rpt_lead_response": 2}
    assert publish.regions(warehouse) == ["华东", "华南"]
    region_file = folder / "bi 'out'" / "warehouse_bi.华东.duckdb"
    assert publish.publish_bi(warehouse, region_file, region="华东") == {"rpt_lead_response": 1}
    assert publish.published_regions(bi_file) == ["华东", "华南"]
    con = duckdb.connect(str(region_file), read_only=True)
    assert con.execute("select rep_id from reporting.rpt_lead_response").fetchall() == [("S001",)]
    con.close()
