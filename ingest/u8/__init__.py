"""用友 U8 ERP: sales orders, invoices, receipts and their master data, from the U8 database.

Reads ``UFDATA_<set>_<year>`` over SQLAlchemy (SQL Server in production; a SQLite copy with the
same tables works too). Tables land in ``raw_u8`` lower-cased with U8's own column names
lower-cased (``cCusCode`` -> ``ccuscode``), incrementally on the rowversion cursor and merged
on the primary key, so reruns and overlapping windows never duplicate rows.

Rows come through Arrow a batch at a time: each column is built from the driver's values by
pyarrow and converted with pyarrow.compute; a column whose values it cannot convert exactly as
the cell-by-cell rules (``_cell``) would (mixed types, money with more places than the column
keeps, zoned times...) is converted cell by cell instead, so both give the same rows.

U8 deletes unaudited documents outright, which no rowversion shows. Each run therefore also
compares U8's keys with the keys already landed: rows whose key is gone from U8 are deleted
from the raw table too (``detect_deletes``; a tombstone with ``_u8_deleted`` = true goes
through dlt's merge), so ERP revenue never counts a deleted order. A table with an integer key
is first asked its row count and key sum (``_key_totals``, before its changed rows are read);
its keys are read only when the landed keys with those read now differ from them.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from dlt.extract.source import DltResource, DltSource

from ingest import contracts, pipelines, sources, stamps
from ingest.u8.settings import DEFAULT_CHUNK_SIZE, TABLES

logger = logging.getLogger(__name__)

_ARROW = {
    "str": pa.string(),
    "int": pa.int64(),
    "money": pa.decimal128(20, 2),
    "qty": pa.decimal128(20, 6),
    "datetime": pa.timestamp("us"),
}
_DLT_TYPES = {
    "str": {"data_type": "text"},
    "int": {"data_type": "bigint"},
    "money": {"data_type": "decimal", "precision": 20, "scale": 2},
    "qty": {"data_type": "decimal", "precision": 20, "scale": 6},
    "datetime": {"data_type": "timestamp", "timezone": False},
}
_PLACES = {"money": 2, "qty": 6}
# what str.strip() removes (every character whose isspace() is true), which is more than
# Unicode's White_Space: the file separators \x1c-\x1f too
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_CONFIG_KEYS = ("url", "tables", "chunk_size", "detect_deletes")
DELETED = "_u8_deleted"


class U8Error(Exception):
    """The U8 database cannot be read as configured."""


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector held off while a batch of rows becomes columns. Every row the
    driver returns is a new tuple the collector tracks, and each full collection they set off
    walks every object of the run's process (dlt, Dagster, dbt's adapter): on 1M U8 lines
    that was a third of the read. A batch makes no cycles; the collector is back on (if it
    was on) before the batch is handed on."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "str":
        return str(value).strip() if isinstance(value, str) else str(value)
    if kind == "int":
        return int.from_bytes(value, "big") if isinstance(value, bytes) else int(value)
    if kind in ("money", "qty"):
        places = Decimal("0.01") if kind == "money" else Decimal("0.000001")
        return Decimal(str(value)).quantize(places)
    if kind == "datetime":
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        return datetime.fromisoformat(str(value).strip())
    raise ValueError(kind)


def _by_cell(values: Sequence[Any], kind: str, type_: pa.DataType) -> pa.Array:
    return pa.array([_cell(v, kind) for v in values], type=type_)


def _converted(arr: pa.Array, kind: str, type_: pa.DataType) -> pa.Array | None:
    """``arr`` (as pyarrow read the driver's values) as ``_cell`` converts them, or None where
    that is not certain."""
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), type_)
    if kind == "str" and pa.types.is_string(arr.type):
        return pc.utf8_trim(arr, characters=_WHITESPACE)
    if kind == "int" and pa.types.is_integer(arr.type):
        return arr.cast(type_)
    if kind in _PLACES and pa.types.is_integer(arr.type):
        return arr.cast(pa.decimal128(38, _PLACES[kind])).cast(type_)
    if kind in _PLACES and pa.types.is_floating(arr.type):
        # exact only when no value has more places than the column: then the float's
        # shortest text (what _cell quantizes) has as many places at most
        if pc.all(pc.equal(pc.round(arr, _PLACES[kind]), arr)).as_py() is False:
            return None
        return arr.cast(type_)
    if kind == "datetime" and pa.types.is_string(arr.type):
        return pc.utf8_trim(arr, characters=_WHITESPACE).cast(type_)
    if kind == "datetime" and pa.types.is_timestamp(arr.type) and arr.type.tz is None:
        return arr.cast(type_)
    return None


def arrow_column(values: Sequence[Any], kind: str, type_: pa.DataType) -> pa.Array:
    """One column of a batch, typed as ``_cell`` types its values."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return _by_cell(values, kind, type_)
    try:
        converted = _converted(arr, kind, type_)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. a value out of range
        converted = None
    return _by_cell(values, kind, type_) if converted is None else converted


def table_contract(name: str, spec: dict[str, Any]) -> contracts.ObjectContract:
    """A U8 table's contract: every column the source reads is required, and so is the table;
    a line table's own cursor is optional (its lines are read through its header's)."""
    optional = {}
    if "header" in spec:
        optional[spec["cursor"]] = f"none: lines are read through {spec['header']}'s cursor"
    return contracts.ObjectContract(
        name=name,
        required=tuple(c for c in spec["columns"] if c not in optional),
        optional=optional,
        required_object=True,
        fix=f"read {name} from a U8 database (UFDATA_<set>_<year>) that has the column",
    )


def contract_findings(section: dict[str, Any]) -> list[contracts.Finding]:
    """What the configured U8 database holds against the contract: its tables and columns, read
    from the database's catalogue (no rows are read)."""
    url = str(section.get("url") or dlt.secrets.get("sources.u8.url") or "")
    if not url:
        raise U8Error("no U8 database: set sources.u8.url or SOURCES__U8__URL")
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        raise U8Error(f"U8 database file not found: {url[len('sqlite:///') :]}")
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            inspector = sa.inspect(engine)
            tables = {t.lower(): t for t in inspector.get_table_names()}
            findings: list[contracts.Finding] = []
            for name, spec in TABLES.items():
                if section.get("tables") and name not in section["tables"]:
                    continue
                actual = tables.get(name.lower())
                present = (
                    None if actual is None else [c["name"] for c in inspector.get_columns(actual)]
                )
                found = contracts.compare("u8", table_contract(name, spec), present)
                # a U8 table has many more columns than the source reads: those are not reported
                findings += [f for f in found if f.status != contracts.UNKNOWN]
        engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        raise U8Error(
            f"cannot connect to U8 database {mask_url(url)}: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    return findings


def landed_objects(section: dict[str, Any]) -> list[contracts.LandedObject]:
    """Where each table's columns land (``contracts.empty_columns``): a column the database has
    but leaves blank in every row degrades what reads it as if it were missing (tables and
    columns land lower-cased, as ``_table_resource`` names them)."""
    return [
        contracts.LandedObject(name, name.lower(), {c: (c.lower(), "") for c in spec["columns"]})
        for name, spec in TABLES.items()
        if not section.get("tables") or name in section["tables"]
    ]


def _check_table(engine: sa.Engine, url: str, name: str, spec: dict[str, Any]) -> sa.Table:
    try:
        inspector = sa.inspect(engine)
        tables = {t.lower(): t for t in inspector.get_table_names()}
    except sa.exc.SQLAlchemyError as exc:
        raise U8Error(
            f"cannot read U8 database {mask_url(url)}: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
    actual = tables.get(name.lower())
    if actual is None:
        raise U8Error(f"U8 database {mask_url(url)} has no table {name}")
    columns = {c["name"].lower(): c["name"] for c in inspector.get_columns(actual)}
    # a line table may lack its cursor: it is then read through its header's
    optional = {spec["cursor"].lower()} if "header" in spec else set()
    missing = [c for c in spec["columns"] if c.lower() not in columns.keys() | optional]
    if missing:
        findings = contracts.compare("u8", table_contract(name, spec), list(columns.values()))
        raise U8Error(
            f"U8 table {name} in {mask_url(url)} lacks column(s) {', '.join(missing)}: "
            + "; ".join(f.message for f in findings if f.status == contracts.MISSING_REQUIRED)
        )
    meta = sa.MetaData()
    present = [c for c in spec["columns"] if c.lower() in columns]
    return sa.Table(actual, meta, *(sa.Column(columns[c.lower()]) for c in present))


def stamp(section: dict[str, Any]) -> dict[str, Any] | None:
    """What the U8 database holds now (``ingest.stamps``): per table read, the columns read,
    the row count (a document deleted outright lowers it) and the newest rowversion (every
    insert and update raises it; a line table's header is stamped with it)."""
    url = str(section.get("url") or dlt.secrets.get("sources.u8.url") or "")
    if not url or url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        return None  # the load says what is wrong (SQLite would create the file)
    engine = sa.create_engine(url)
    try:
        wanted = set(section.get("tables") or TABLES)
        # a line table is read through its header's rowversion: the header is stamped too
        wanted |= {TABLES[n]["header"] for n in wanted if "header" in TABLES.get(n, {})}
        out: dict[str, Any] = {"settings": stamps.settings(section, "url")}
        with engine.connect() as conn:
            for name, spec in TABLES.items():
                if name not in wanted:
                    continue
                table = _check_table(engine, url, name, spec)
                cursor = [c for c in table.c if c.name.lower() == spec["cursor"].lower()]
                newest = [sa.func.max(sa.cast(c, sa.BigInteger)) for c in cursor]
                row = conn.execute(sa.select(sa.func.count(), *newest).select_from(table)).one()
                out[name] = [sorted(c.name for c in table.c), *row]
        return out
    finally:
        engine.dispose()


def _column(table: sa.Table, name: str) -> sa.Column:
    return table.c[[c.name for c in table.c if c.name.lower() == name.lower()][0]]


def _changed_rows(
    engine: sa.Engine, url: str, name: str, spec: dict[str, Any], last_value: int
) -> tuple[sa.Table, sa.Select]:
    """The table and the query for its rows past ``last_value`` in cursor order: on the
    table's own cursor, or, for a line table without one, the lines of every header past it,
    each carrying its header's cursor value."""
    table = _check_table(engine, url, name, spec)
    cursor = spec["cursor"].lower()
    if any(c.name.lower() == cursor for c in table.c):
        own = _column(table, cursor)
        stamp = sa.cast(own, sa.BigInteger)
        columns = [stamp.label(own.name) if c is own else c for c in table.c]
        return table, sa.select(*columns).where(stamp > last_value).order_by(stamp)
    header_name = spec["header"]
    header_spec = TABLES[header_name]
    header = _check_table(engine, url, header_name, header_spec)
    key = header_spec["primary_key"]
    stamp = sa.cast(_column(header, header_spec["cursor"]), sa.BigInteger)
    logger.info(
        "U8 %s has no %s: reading the lines of new or changed %s", name, cursor, header_name
    )
    query = (
        sa.select(*table.c, stamp.label(cursor))
        .select_from(table.join(header, _column(table, key) == _column(header, key)))
        .where(stamp > last_value)
        .order_by(stamp, _column(table, spec["primary_key"]))
    )
    return table, query


def _table_resource(
    engine_factory,
    url: str,
    name: str,
    spec: dict[str, Any],
    chunk_size: int,
    detect_deletes: bool,
) -> DltResource:
    cursor = spec["cursor"].lower()
    kinds = {c.lower(): k for c, k in spec["columns"].items()}
    pk = spec["primary_key"].lower()
    schema = pa.schema([pa.field(c, _ARROW[k], nullable=c != pk) for c, k in kinds.items()])

    incremental = dlt.sources.incremental(
        cursor, initial_value=-1, last_value_func=max, on_cursor_value_missing="include"
    )
    table_name = name.lower()

    def rows(
        position: dlt.sources.incremental[int] = incremental,
    ) -> Iterator[pa.Table]:
        engine = engine_factory()
        try:
            table, query = _changed_rows(engine, url, name, spec, position.last_value)
            with engine.connect() as conn:
                # the driver's own cursor: its rows as they are, no Row objects (the only
                # parameter, the cursor's last value, is an integer written into the text)
                sql = query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
                reconcile = detect_deletes and position.last_value != -1
                # before anything is read: U8's rows now, to tell deletes without every key
                held = _key_totals(conn, table, pk) if reconcile and kinds[pk] == "int" else None
                cursor = conn.connection.dbapi_connection.cursor()
                cursor.execute(str(sql))
                names = [d[0].lower() for d in cursor.description]
                yielded = False
                read_keys: list[pa.Array] = []  # the keys read, when deletes are reconciled
                types = {f.name: f.type for f in schema}
                while True:
                    with _collector_paused():
                        batch = cursor.fetchmany(chunk_size)
                        if not batch:
                            break
                        columns = list(zip(*batch, strict=True))
                        data = {
                            col: arrow_column(columns[i], kinds[col], types[col])
                            for i, col in enumerate(names)
                        }
                        del batch, columns
                    yielded = True
                    if reconcile:
                        read_keys.append(data[pk])
                    yield pa.table(data, schema=schema)
                cursor.close()
                if not yielded and position.last_value == -1:
                    # an empty U8 table still lands (empty), so models over it can run
                    yield schema.empty_table()
                read = pa.chunked_array(read_keys, types[pk]) if reconcile else None
                # every row U8 held was landed before or read now, and no other key was: no
                # row was deleted (a delete after ``held`` shows at the next run)
                if held is not None and pipelines.landed_key_totals(table_name, pk, read) == held:
                    reconcile = False
                if reconcile:
                    pk_col = _column(table, pk)
                    in_u8 = {_cell(k, kinds[pk]) for (k,) in conn.execute(sa.select(pk_col)).all()}
                    seen = set(read.to_pylist())
                    gone = sorted(pipelines.landed_keys(table_name, pk) - in_u8 - seen)
                    if gone:
                        logger.info(
                            "U8 %s: %d row(s) deleted in U8 since the last run", name, len(gone)
                        )
                        yield _tombstones(schema, pk, gone)
        except (sa.exc.SQLAlchemyError, engine.dialect.loaded_dbapi.Error) as exc:
            raise U8Error(
                f"reading U8 table {name} from {mask_url(url)} failed: {str(exc).splitlines()[0]}"
            ) from exc
        finally:
            engine.dispose()

    rows.__name__ = rows.__qualname__ = f"u8_{name.lower()}"
    return dlt.resource(
        rows,
        name=name.lower(),
        table_name=name.lower(),
        primary_key=spec["primary_key"].lower(),
        write_disposition="merge",
        # U8 times are local wall-clock times: land them without a zone
        # (fresh dicts: dlt writes each column's name into its hint)
        columns={
            **{c: dict(_DLT_TYPES[k]) for c, k in kinds.items() if k == "datetime"},
            DELETED: {"data_type": "bool", "hard_delete": True},
        },
    )


def _key_totals(conn: sa.Connection, table: sa.Table, pk: str) -> tuple[int, int]:
    """How many rows U8's ``table`` holds and the sum of their (integer) keys."""
    key = sa.cast(_column(table, pk), sa.BigInteger)  # SQL Server sums an int as an int
    count, total = conn.execute(sa.select(sa.func.count(), sa.func.sum(key))).one()
    return int(count), int(total or 0)


def _tombstones(schema: pa.Schema, pk: str, keys: list[Any]) -> pa.Table:
    """Rows that delete ``keys`` on merge: the key, ``_u8_deleted`` true, all else null."""
    columns = {
        f.name: pa.array(keys, type=f.type) if f.name == pk else pa.nulls(len(keys), f.type)
        for f in schema
    }
    columns[DELETED] = pa.array([True] * len(keys))
    return pa.table(columns, schema=schema.append(pa.field(DELETED, pa.bool_())))


@dlt.source(name="u8")
def u8_source(
    url: str = dlt.secrets.value,
    tables: list[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    detect_deletes: bool = True,
) -> list[DltResource]:
    """One resource per U8 table (``tables``: a subset of ``ingest.u8.settings.TABLES``);
    ``detect_deletes`` reconciles keys each run (one key-only read of every table)."""
    unknown = sorted(set(tables or ()) - set(TABLES))
    if unknown:
        raise U8Error(f"unknown U8 table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")

    def engine_factory() -> sa.Engine:
        try:
            return sa.create_engine(url)
        except Exception as exc:  # bad URL or missing driver
            raise U8Error(f"cannot open U8 database {mask_url(url)}: {exc}") from exc

    return [
        _table_resource(engine_factory, url, name, spec, chunk_size, detect_deletes)
        for name, spec in TABLES.items()
        if not tables or name in tables
    ]


def source_from_config(section: dict[str, Any]) -> DltSource:
    """The U8 source from its run-configuration section (``url``, ``tables``, ``chunk_size``,
    ``detect_deletes``).

    A password never goes in the section: put the whole URL in ``SOURCES__U8__URL`` (or
    ingest/.dlt/secrets.toml) instead.
    """
    url = section.get("url")
    if url and re.search(r"://[^:/@]+:[^@]+@", str(url)):
        raise ValueError(
            "the U8 url in the run configuration holds a password; set the whole URL as "
            "SOURCES__U8__URL or in ingest/.dlt/secrets.toml"
        )
    return u8_source(**sources.arguments("U8", section, _CONFIG_KEYS, log=logger))
