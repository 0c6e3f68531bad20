"""The Spark engine's raw layer: the same dlt sources written by dlt's filesystem destination
(salesops.lake), read back as dlt's merge leaves them on DuckDB: changed rows replaced, U8's
deleted documents gone, the keys the next load reconciles against the same."""

from __future__ import annotations

import sqlite3
from datetime import date

import duckdb
import pytest

from devkit.demo.generate import generate
from ingest.pipelines import LAKE_RUN, make_pipeline
from ingest.u8 import u8_source
from ingest.u8.settings import TABLES
from salesops import lake


def _rows(con, table: str) -> list[tuple]:
    return con.execute(f"select * from raw_u8.{table} order by all").fetchall()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The demo org's U8 loaded four times into DuckDB and into the lake: as generated, after
    an order changed, after two orders and a customer were deleted in U8, and unchanged."""
    base = tmp_path_factory.mktemp("lake")
    generate(base / "org", seed=5, scale="S", as_of=date(2026, 11, 20))
    db = base / "org" / "u8" / "UFDATA_001_2026.db"
    duck = make_pipeline("u8", base / "w.duckdb", pipelines_dir=base / "p")
    into_lake = make_pipeline("u8", base / "ops.duckdb", pipelines_dir=base / "p", lake=base / "l")
    changes = [
        "update SO_SOMain set iStatus = 2, ufts = (select max(ufts) + 100 from SO_SOMain) "
        "where ID = 1",
        "delete from SO_SODetails where ID in (2, 3); delete from SO_SOMain where ID in (2, 3); "
        "delete from Customer where cCusCode = (select min(cCusCode) from Customer "
        "where cCusCode not in (select cCusCode from SO_SOMain))",
    ]
    for step in [None, *changes, None]:
        if step:
            with sqlite3.connect(db) as src:
                src.executescript(step)
        duck.run(u8_source(url=f"sqlite:///{db}"))
        into_lake.run(u8_source(url=f"sqlite:///{db}"), **LAKE_RUN)
    with sqlite3.connect(db) as src:
        orders = src.execute("select count(*) from SO_SOMain").fetchone()[0]
    made = lake.attach_duckdb(base / "ops.duckdb", base / "l", "raw_u8")
    return base, made, orders


def test_the_lake_read_as_merged_equals_the_duckdb_load(loaded):
    base, made, orders = loaded
    assert sorted(made) == sorted(["raw_u8._dlt_loads", *(f"raw_u8.{t.lower()}" for t in TABLES)])
    # each load that read orders wrote a file of its own under the day it ran (the lake only
    # appends): the first, the change, the deletes' tombstones; the unchanged fourth none (the
    # keys it reconciled against were those left after the deletes, not every key landed)
    day = next((base / "l" / "raw_u8" / "so_somain").iterdir())
    assert day.name.startswith("load_date=") and len(list(day.glob("*.parquet"))) == 3
    with (
        duckdb.connect(str(base / "w.duckdb"), read_only=True) as duck,
        duckdb.connect(str(base / "ops.duckdb"), read_only=True) as ops,
    ):
        for table in TABLES:
            want = _rows(duck, table.lower())
            assert _rows(ops, table.lower()) == want, table
        # the changed order is there once, as changed; the deleted ones are gone
        assert ops.execute("select istatus from raw_u8.so_somain where id = 1").fetchall() == [(2,)]
        assert ops.execute("select count(*) from raw_u8.so_somain").fetchone()[0] == orders
        assert (
            ops.execute("select count(*) from raw_u8.so_somain where id in (2, 3)").fetchone()[0]
            == 0
        )
        # dlt's load log, as the load steps read it: the same completed loads
        log = "select count(*), min(status), max(inserted_at) is not null from raw_u8._dlt_loads"
        assert ops.execute(log).fetchone() == duck.execute(log).fetchone()


def test_a_lake_table_is_not_read_over_a_table_the_duckdb_engine_loaded(loaded):
    base, _made, _ = loaded
    with pytest.raises(RuntimeError, match=r"raw_u8\._dlt_loads is a table the duckdb engine"):
        lake.attach_duckdb(base / "w.duckdb", base / "l", "raw_u8")
