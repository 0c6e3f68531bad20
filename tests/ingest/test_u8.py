"""The U8 source against a real SQLite database with U8's tables (written by the demo org)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from devkit.demo.generate import generate
from ingest.pipelines import append_first_loads, make_pipeline, settle_first_loads
from ingest.u8 import U8Error, source_from_config, u8_source
from ingest.u8.settings import TABLES
from tests.support.rows import same_rows


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


def _load_as_a_run(db, tmp_path) -> list[str]:
    """A load as a run makes it: tables not landed yet appended to, then settled."""
    wh = tmp_path / "w.duckdb"
    source = u8_source(url=f"sqlite:///{db}")
    appended = append_first_loads("u8", source, wh)
    make_pipeline("u8", wh, pipelines_dir=tmp_path / "p").run(source)
    settle_first_loads("u8", wh)
    return appended


def test_a_first_load_appends_and_the_next_merges_changes_and_deletes(u8_db, tmp_path):
    assert set(_load_as_a_run(u8_db, tmp_path)) == {t.lower() for t in TABLES}
    wh = tmp_path / "w.duckdb"
    src = sqlite3.connect(u8_db)
    in_u8 = {t: src.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    assert {t: _count(wh, t.lower()) for t in TABLES} == in_u8
    # then a document changes and another is deleted in U8: the next load merges both
    top = src.execute("select max(ufts) from SO_SOMain").fetchone()[0]
    src.execute("update SO_SOMain set iStatus = 2, ufts = ? where ID = 1", (top + 100,))
    src.execute("delete from SO_SOMain where ID = 2")
    src.commit()
    assert _load_as_a_run(u8_db, tmp_path) == []
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rows = con.execute("select id, istatus from raw_u8.so_somain order by id").fetchall()
    finally:
        con.close()
    assert len(rows) == len({r[0] for r in rows}) == in_u8["SO_SOMain"] - 1
    assert dict(rows)[1] == 2 and 2 not in dict(rows)
    assert _load_as_a_run(u8_db, tmp_path) == []
    assert _count(wh, "so_somain") == in_u8["SO_SOMain"] - 1
    src.close()


def test_deletes_are_told_by_row_count_and_key_sum_before_any_key_is_read(u8_db, tmp_path):
    """A later load asks U8 how many rows each document table holds and the sum of their keys
    before it reads; the keys are read (to find the deleted rows) only when that differs from
    what is landed with the rows read now. A landed row lost by hand and another row deleted
    in U8 keep the count, not the key sum: the deleted row still goes."""
    _load_as_a_run(u8_db, tmp_path)
    wh = tmp_path / "w.duckdb"
    documents = {t: spec["primary_key"] for t, spec in TABLES.items() if spec["cursor"] == "ufts"}
    statements: list[str] = []

    def asked(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()))

    def load() -> tuple[set[str], set[str]]:
        """The tables whose totals were asked, and those whose every key was read."""
        statements.clear()
        _load_as_a_run(u8_db, tmp_path)
        totals = {t for t, k in documents.items() if any(
            s.startswith(f'SELECT count(*) AS count_1, sum(CAST("{t}"."{k}" AS BIGINT))')
            for s in statements)}  # fmt: skip
        keys = {t for t, k in documents.items() if f'SELECT "{t}"."{k}" FROM "{t}"' in statements}
        return totals, keys

    src = sqlite3.connect(u8_db)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", asked)
    try:
        assert load() == (set(documents), set())
        src.execute("delete from SO_SOMain where ID = 2")
        src.commit()
        assert load() == (set(documents), {"SO_SOMain"})
        with duckdb.connect(str(wh)) as con:
            con.execute("delete from raw_u8.so_somain where id = 3")
        src.execute("delete from SO_SOMain where ID = 4")
        src.commit()
        assert load() == (set(documents), {"SO_SOMain"})
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", asked)
        src.close()
    ids = {r[0] for r in duckdb.connect(str(wh), read_only=True).execute(
        "select id from raw_u8.so_somain").fetchall()}  # fmt: skip
    assert not ids & {2, 3, 4} and len(ids) > 10


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


LINES = {  # line table -> (header, shared key)
    "SO_SODetails": ("SO_SOMain", "ID"),
    "SaleBillVouchs": ("SaleBillVouch", "SBVID"),
    "Ap_CloseBills": ("Ap_CloseBill", "iID"),
}


def _db_rows(db, table: str) -> set[tuple]:
    con = sqlite3.connect(db)
    try:
        return set(con.execute(f"select * from {table}").fetchall())
    finally:
        con.close()


def _loaded(pipeline) -> dict[str, int]:
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return {t: n for t, n in counts.items() if not t.startswith("_dlt")}


def test_line_tables_without_ufts_load_through_their_header(tmp_path):
    """A U8 whose line tables carry no ``ufts``: every line lands with its header's cursor, a
    rerun reads nothing, each appended day loads exactly the lines of new or changed
    documents (every new line among them), and the tables equal a clean load."""
    from devkit.demo.generate import append_day

    src = tmp_path / "org"
    manifest = generate(
        src,
        seed=5,
        scale="S",
        as_of=date(2026, 11, 20),
        through=date(2026, 11, 17),
        variants=("u8_no_line_ufts",),
    )
    assert manifest["variants"]["u8_no_line_ufts"]["tables"] == sorted(LINES)
    db = src / "u8" / "UFDATA_001_2026.db"
    pipeline = make_pipeline("u8", tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    source = lambda: u8_source(url=f"sqlite:///{db}")  # noqa: E731
    pipeline.run(source())
    first = _loaded(pipeline)
    for line in LINES:
        assert first[line.lower()] == len(_db_rows(db, line)) > 0, line
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    stale = con.execute(
        "select count(*) from raw_u8.so_sodetails as l join raw_u8.so_somain as h "
        "on l.id = h.id where l.ufts <> h.ufts"
    ).fetchone()[0]
    con.close()
    assert stale == 0
    pipeline.run(source())
    assert sum(_loaded(pipeline).values()) == 0
    new_lines = 0
    for _ in range(3):
        before = {t: _db_rows(db, t) for t in (*LINES, *(h for h, _ in LINES.values()))}
        append_day(src)
        pipeline.run(source())
        day = _loaded(pipeline)
        for line, (header, key) in LINES.items():
            cols = [r[1] for r in sqlite3.connect(db).execute(f"pragma table_info({line})")]
            at = cols.index(key)
            hcols = [r[1] for r in sqlite3.connect(db).execute(f"pragma table_info({header})")]
            touched = {r[hcols.index(key)] for r in _db_rows(db, header) - before[header]}
            now = _db_rows(db, line)
            expected = [r for r in now if r[at] in touched]
            added = now - before[line]
            assert {r[0] for r in added} <= {r[0] for r in expected}, line
            gone = len({r[0] for r in before[line]} - {r[0] for r in now})
            assert day.get(line.lower(), 0) == len(expected) + gone, line
            new_lines += len(added)
    assert new_lines > 0
    clean = make_pipeline("u8", tmp_path / "c.duckdb", pipelines_dir=tmp_path / "pc")
    clean.run(source())
    got, want = (
        duckdb.connect(str(tmp_path / f), read_only=True) for f in ("w.duckdb", "c.duckdb")
    )
    for line in LINES:
        names = [r[0] for r in want.execute(f"describe raw_u8.{line.lower()}").fetchall()]
        cols = ", ".join(n for n in names if not n.startswith("_dlt"))
        query = f"select {cols} from raw_u8.{line.lower()} order by all"
        assert got.execute(query).fetchall() == want.execute(query).fetchall(), line
    got.close()
    want.close()
    # the same org with line ufts lands the same rows but for the cursor columns, and no model
    # reads a cursor column: the marts are those of the org with line ufts
    plain = tmp_path / "plain"
    generate(plain, seed=5, scale="S", as_of=date(2026, 11, 20), through=date(2026, 11, 20))
    with_ufts = make_pipeline("u8", tmp_path / "u.duckdb", pipelines_dir=tmp_path / "pu")
    with_ufts.run(u8_source(url=f"sqlite:///{plain / 'u8' / 'UFDATA_001_2026.db'}"))
    got, want = (
        duckdb.connect(str(tmp_path / f), read_only=True) for f in ("w.duckdb", "u.duckdb")
    )
    for table in TABLES:
        names = [r[0] for r in want.execute(f"describe raw_u8.{table.lower()}").fetchall()]
        cols = ", ".join(n for n in names if not n.startswith("_dlt") and "ufts" not in n)
        query = f"select {cols} from raw_u8.{table.lower()} order by all"
        assert got.execute(query).fetchall() == want.execute(query).fetchall(), table
    got.close()
    want.close()
    models = Path(__file__).parents[2] / "dbt_project" / "models"
    assert not [p for p in models.rglob("*.sql") if "ufts" in p.read_text(encoding="utf-8")]


def test_marts_of_a_u8_without_line_ufts_equal_those_with_it(second_org_run, tmp_path):
    """The whole pipeline on the same org, its U8 line tables without ``ufts``: every mart
    equals the one built from the U8 that has them."""
    from tests.conftest import run_org

    run = run_org(tmp_path, seed=11, scale="S", anomaly_rate=2.0, variants=("u8_no_line_ufts",))
    assert run.outcome.success, run.outcome.errors
    got = duckdb.connect(str(run.config.warehouse), read_only=True)
    want = duckdb.connect(str(second_org_run.config.warehouse), read_only=True)
    try:
        marts = [
            t
            for (t,) in want.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by 1"
            ).fetchall()
        ]
        assert len(marts) > 10 and "rpt_forecast_vs_actual" in marts
        for table in marts:
            if table in ("rpt_source_freshness", "rpt_source_loads", "fct_metric_shares"):
                continue  # when each source was loaded, and a row per build: this run's
            if table == "rpt_source_contract":  # this run's findings: the lines' missing ufts
                gaps = got.execute(
                    "select object_name, column_name, status from marts.rpt_source_contract "
                    "where source_name = 'u8' order by 1"
                ).fetchall()
                assert gaps == [
                    (line, "ufts", "missing_optional")
                    for line in ("Ap_CloseBills", "SO_SODetails", "SaleBillVouchs")
                ]
                continue
            query = f"select * from marts.{table} order by all"
            assert same_rows(got.execute(query).fetchall(), want.execute(query).fetchall()), table
        erp = "select count(*) from marts.rpt_forecast_vs_actual where actual_invoiced > 0"
        assert got.execute(erp).fetchone()[0] > 0
    finally:
        got.close()
        want.close()


def test_rows_through_arrow_equal_the_cell_by_cell_rules(u8_db, tmp_path):
    """Every landed row equals, value for value, the row read with the driver and typed cell by
    cell (``_cell``: trimmed text, exact cents, wall-clock times), on the demo's U8 file."""
    from ingest.u8 import _cell

    wh = _load(u8_db, tmp_path, chunk_size=50)  # several batches a table
    src = sqlite3.connect(u8_db)
    con = duckdb.connect(str(wh), read_only=True)
    for name, spec in TABLES.items():
        cols = list(spec["columns"])
        expected = sorted(
            tuple(_cell(v, spec["columns"][c]) for c, v in zip(cols, row, strict=True))
            for row in src.execute(f"select {', '.join(cols)} from {name}")
        )
        got = sorted(
            con.execute(
                f"select {', '.join(c.lower() for c in cols)} from raw_u8.{name}"
            ).fetchall()
        )
        assert got == expected and len(got) > 0, name
    con.close()
    src.close()


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1.015, 0.125, 2.5, None, 3], "money"),  # more places than cents: rounded as Decimal
        ([1.5, 2, None], "money"),
        ([0.1234567, 1.0], "qty"),
        (["  a b \x1c", "\u3000c", None], "str"),
        ([7, "x"], "str"),
        ([b"\x00\x00\x00\x00\x00\x00\x01\x02", 5], "int"),
        (["2026-01-02 03:04:05", " 2026-01-02T03:04:05.5 ", None], "datetime"),
        ([datetime(2026, 1, 2, 3, tzinfo=UTC), datetime(2026, 1, 2, 4)], "datetime"),
    ],
)
def test_a_column_through_arrow_equals_it_cell_by_cell(values, kind):
    from ingest.u8 import _ARROW, _cell, arrow_column

    assert arrow_column(values, kind, _ARROW[kind]).to_pylist() == [_cell(v, kind) for v in values]


def test_text_is_trimmed_of_what_str_strip_removes():
    from ingest.u8 import _WHITESPACE

    assert set(_WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_a_column_blank_in_every_row_is_recorded_as_empty(u8_db, tmp_path):
    """A U8 column the table has but leaves blank in every row is an 'empty' finding of
    ops.source_contract after the load; a column blank in some rows only is not."""
    from ingest import contracts
    from ingest.pipelines import check_contract, check_empty

    with sqlite3.connect(u8_db) as db:
        db.execute("update Customer set cCusAbbName = null")
        db.execute("update Customer set cCusDepart = null where rowid % 2 = 0")
    section = {"url": f"sqlite:///{u8_db}", "tables": ["Customer"]}
    wh = tmp_path / "w.duckdb"
    assert check_contract("u8", section, wh) == []
    _load(u8_db, tmp_path, tables=["Customer"])
    found = check_empty("u8", section, wh)
    assert [(f.object, f.column, f.status) for f in found] == [
        ("Customer", "cCusAbbName", contracts.EMPTY)
    ]
    assert contracts.recorded(wh) == found
