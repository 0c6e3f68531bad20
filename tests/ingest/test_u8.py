"""The U8 source against a real SQLite database with U8's tables (written by the demo org)."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from ingest.pipelines import make_pipeline
from ingest.u8 import U8Error, source_from_config, u8_source
from salesops.demo.generate import generate


@pytest.fixture
def u8_db(tmp_path):
    generate(tmp_path / "org", seed=5, scale="S", as_of=date(2026, 11, 20))
    return tmp_path / "org" / "u8" / "UFDATA_001_2026.db"


def _load(db, tmp_path, **kw):
    pipeline = make_pipeline("u8", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    pipeline.run(u8_source(url=f"sqlite:///{db}", **kw))
    return tmp_path / "w.duckdb"


def _count(wh, table):
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(f"select count(*) from raw_u8.{table}").fetchone()[0]
    finally:
        con.close()


def test_tables_land_lowercased_with_u8_types(u8_db, tmp_path):
    wh = _load(u8_db, tmp_path)
    src = sqlite3.connect(u8_db)
    con = duckdb.connect(str(wh), read_only=True)
    for table in ("Customer", "SO_SOMain", "SO_SODetails", "SaleBillVouch", "Ap_CloseBill"):
        expected = src.execute(f"select count(*) from {table}").fetchone()[0]
        assert con.execute(f"select count(*) from raw_u8.{table.lower()}").fetchone()[0] == expected
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema='raw_u8' and table_name='so_sodetails'"
        ).fetchall()
    )
    assert types["isum"] == "DECIMAL(20,2)" and types["dpredate"] == "TIMESTAMP"
    columns = [r[0] for r in con.execute("describe raw_u8.so_somain").fetchall()]
    assert columns[:4] == ["id", "csocode", "ddate", "ccuscode"]
    assert con.execute("select count(*) from raw_u8.so_sodetails").fetchone()[0] > 20
    # money is exact: the order lines sum to the same cents in both databases
    assert con.execute("select sum(isum) from raw_u8.so_sodetails").fetchone()[0] == Decimal(
        str(src.execute("select printf('%.2f', sum(iSum)) from SO_SODetails").fetchone()[0])
    )
    con.close()
    src.close()


def test_rerun_loads_nothing_and_changes_merge(u8_db, tmp_path):
    wh = _load(u8_db, tmp_path)
    before = _count(wh, "so_somain")
    _load(u8_db, tmp_path)
    assert _count(wh, "so_somain") == before
    src = sqlite3.connect(u8_db)
    top = src.execute("select max(ufts) from SO_SOMain").fetchone()[0]
    src.execute("update SO_SOMain set iStatus = 2, ufts = ? where ID = 1", (top + 100,))
    src.commit()
    src.close()
    _load(u8_db, tmp_path)
    con = duckdb.connect(str(wh), read_only=True)
    assert con.execute("select count(*) from raw_u8.so_somain").fetchone()[0] == before
    assert con.execute("select istatus from raw_u8.so_somain where id = 1").fetchone()[0] == 2
    con.close()


def test_missing_table_names_database_and_table(u8_db, tmp_path):
    src = sqlite3.connect(u8_db)
    src.execute("drop table Ap_CloseBills")
    src.commit()
    src.close()
    with pytest.raises(Exception, match=r"has no table Ap_CloseBills") as info:
        _load(u8_db, tmp_path)
    assert str(u8_db) in str(info.value)


def test_password_in_config_is_refused_and_masked():
    with pytest.raises(ValueError, match="SOURCES__U8__URL"):
        source_from_config({"url": "mssql+pyodbc://sa:secret@host/UFDATA_001_2026"})
    from ingest.u8 import mask_url

    assert "secret" not in mask_url("mssql+pyodbc://sa:secret@host/db")
    with pytest.raises(U8Error, match="unknown U8 table"):
        u8_source(url="sqlite://", tables=["Nope"])
