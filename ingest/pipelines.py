"""The one place a dlt pipeline is made: name, dataset and destination follow the source name."""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from ingest import contracts, sources
from salesops import lake as lake_tables

# how a pipeline into the lake runs (dlt.run / pipeline.run keywords): Parquet files
LAKE_RUN = {"loader_file_format": "parquet"}
# How every load connection to the warehouse runs, besides its memory and threads. A load's
# Arrow tables reach DuckDB as Parquet row groups of uneven sizes (each month's last slice of
# the chat archive, for one). Kept in insertion order, a bulk insert leaves part-filled row
# groups behind, and the checkpoint that ends the load merges them: 2.5 of the 5.6 s that
# landing M's 4M archived messages took. No raw table has an order: models sort and group by
# columns, and a key that comes twice in one load keeps the row its dedup order picks, or any
# (as dlt's merge does). So inserts may fill row groups in any order.
LOAD_SETTINGS: dict[str, Any] = {"preserve_insertion_order": False}


class _MergeReadFromTheLake(logging.Filter):
    """dlt warns on every load into the lake that merge falls back to append and that the
    hard-delete hints are ignored: so they are, by design (salesops.lake reads the files as
    merged), and the warnings are left out of the run's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("Falling back to `append`")
            or ('"hard_delete" column hint' in message and "will be ignored" in message)
        )


_LAKE_LOG_FILTER = _MergeReadFromTheLake()


class _MergeHintsOnAppend(logging.Filter):
    """A first load appends (``append_first_loads``), and dlt warns for each table that its
    hard-delete and dedup-sort columns are ignored: they are, by design (an empty table has
    nothing to delete; a repeated key is settled after the load), and the merges that follow
    apply them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            ('"hard_delete" column hint' in message or '"dedup_sort" column hint' in message)
            and 'disposition "append"' in message
        )


_APPEND_LOG_FILTER = _MergeHintsOnAppend()
logger = logging.getLogger(__name__)


def make_pipeline(
    src: str,
    warehouse: str | Path,
    pipelines_dir: str | Path | None = None,
    duckdb_settings: dict[str, Any] | None = None,
    lake: str | Path | None = None,
) -> dlt.Pipeline:
    """Pipeline ``raw_<src>`` loading into dataset (= DuckDB schema) ``raw_<src>``;
    ``duckdb_settings`` (memory_limit, threads) and ``LOAD_SETTINGS`` apply to every
    connection it opens. With ``lake`` (the Spark engine) the same dataset is written by dlt's
    filesystem destination as Parquet under ``lake`` instead (``salesops.lake``; run it with
    ``LAKE_RUN``), its state kept apart from the DuckDB pipeline's."""
    warehouse = Path(warehouse)
    pipelines_dir = Path(pipelines_dir or warehouse.parent / ".dlt_pipelines")
    if lake is not None:
        destination = dlt.destinations.filesystem(
            bucket_url=str(Path(lake).resolve()), layout=lake_tables.LAYOUT
        )
        pipelines_dir = pipelines_dir / "lake"
        logging.getLogger("dlt").addFilter(_LAKE_LOG_FILTER)  # once: the same object
    else:
        settings = {**LOAD_SETTINGS, **(duckdb_settings or {})}
        credentials = DuckDbCredentials(str(warehouse), global_config=settings)
        destination = dlt.destinations.duckdb(credentials)
    entry = sources.BY_NAME.get(src)
    if entry and (entry.checks_latest_load or entry.load_id_on_rows):
        # dlt adds the load id to rows yielded as Arrow tables only when asked, per pipeline
        dlt.config[f"raw_{src}.normalize.parquet_normalizer.add_dlt_load_id"] = True
    return dlt.pipeline(
        pipeline_name=f"raw_{src}",
        destination=destination,
        dataset_name=f"raw_{src}",
        pipelines_dir=str(pipelines_dir),
    )


def landed_keys(table: str, *columns: str) -> set[Any]:
    """The keys (``columns``) of ``table`` already in the running pipeline's destination, none
    before its first load: a value per row for one column, a tuple for several."""
    pipeline = dlt.current.pipeline()
    name = pipeline.default_schema_name
    if name is None or table not in pipeline.schemas[name].tables:
        return set()
    if pipeline.destination.destination_name == "filesystem":
        return _lake_keys(pipeline, table, columns)
    with pipeline.sql_client() as client:
        qualified = client.make_qualified_table_name(table)
        names = ", ".join(client.escape_column_name(c) for c in columns)
        try:
            rows = client.execute_sql(f"select {names} from {qualified}")
        except Exception as exc:  # the table was dropped by hand: nothing to reconcile
            if client.is_dbapi_exception(exc) and "exist" in str(exc).lower():
                return set()
            raise
    return {r[0] for r in rows} if len(columns) == 1 else {tuple(r) for r in rows}


def landed_key_totals(table: str, column: str, read: pa.ChunkedArray) -> tuple[int, int] | None:
    """How many distinct values of the integer key ``column`` ``table`` holds in the running
    pipeline's destination with the keys ``read`` by this load, and their sum: what the table
    holds once the load is merged, but for deletes. None where the keys cannot be counted so
    (the lake: read every key instead)."""
    pipeline = dlt.current.pipeline()
    name = pipeline.default_schema_name
    if pipeline.destination.destination_name == "filesystem":
        return None
    read_keys = pa.table({"k": read.cast(pa.int64())})
    landed = name is not None and table in pipeline.schemas[name].tables
    with pipeline.sql_client() as client, client.native_connection.cursor() as con:
        con.register("_read_keys", read_keys)
        try:
            if landed:
                qualified = client.make_qualified_table_name(table)
                key = client.escape_column_name(column)
                sql = (
                    f"select count(*), sum(k) from (select {key} as k from {qualified} "
                    "union select k from _read_keys)"
                )
            else:
                sql = "select count(*), sum(k) from (select distinct k from _read_keys)"
            ((count, total),) = con.execute(sql).fetchall()
        finally:
            con.unregister("_read_keys")
    return int(count), int(total or 0)


def _lake_keys(pipeline: dlt.Pipeline, table: str, columns: tuple[str, ...]) -> set[Any]:
    """``landed_keys`` in the lake: the keys of the rows a merge would have kept."""
    import duckdb

    lake = Path(pipeline.destination_client().config.bucket_url.removeprefix("file://"))
    schema = pipeline.schemas[pipeline.default_schema_name].to_dict()
    spec = {t.name: t for t in lake_tables.tables(pipeline.dataset_name, schema)}.get(table)
    with duckdb.connect() as con:
        query = lake_tables.duckdb_relation(con, lake, spec) if spec else None
        if query is None:  # nothing landed yet
            return set()
        names = ", ".join('"' + c + '"' for c in columns)
        rows = con.execute(f"select {names} from ({query}) as t").fetchall()
    return {r[0] for r in rows} if len(columns) == 1 else {tuple(r) for r in rows}


def source_from_config(src: str, section: dict[str, Any], reread: bool = False) -> DltSource:
    """Build source ``src`` from its section of the run configuration (``salesops.config``);
    ``reread`` (a full refresh): one that reads only what changed since its last load
    (:func:`rereads`) reads everything."""
    build = sources.module(src).source_from_config
    return build(section, reread=True) if reread and rereads(src) else build(section)


def rereads(src: str) -> bool:
    """Whether source ``src`` reads only what changed since its last load and can be told to
    read everything instead (its ``source_from_config`` takes ``reread``: the sheets)."""
    return "reread" in inspect.signature(sources.module(src).source_from_config).parameters


def contract_findings(src: str, section: dict[str, Any]) -> list[contracts.Finding]:
    """Source ``src``'s contract findings (``ingest.contracts``), read without loading."""
    module = sources.module(src)
    finder = getattr(module, "contract_findings", None)
    return list(finder(section)) if finder else []


def check_contract(
    src: str, section: dict[str, Any], warehouse: str | Path | None = None
) -> list[contracts.Finding]:
    """Compare source ``src`` with its contract before it loads: the findings go to
    ``ops.source_contract`` (with ``warehouse``), and a missing required column or object
    raises ``ContractError`` naming source, object, column and the fix."""
    module = sources.module(src)
    if not hasattr(module, "contract_findings"):
        return []
    findings = contract_findings(src, section)
    if warehouse is not None:
        contracts.record(warehouse, src, findings)
    if sources.BY_NAME[src].fails_on_missing_required:
        contracts.raise_for_required(findings)
    return findings


def check_empty(
    src: str, section: dict[str, Any], warehouse: str | Path
) -> list[contracts.Finding]:
    """After source ``src`` loaded: its columns that are there but blank in every landed row
    (``contracts.empty_columns``), recorded in ``ops.source_contract`` beside what the check
    before the load found."""
    landed = getattr(sources.module(src), "landed_objects", None)
    if landed is None:
        return []
    findings = contracts.empty_columns(
        warehouse, src, landed(section), sources.BY_NAME[src].checks_latest_load
    )
    contracts.record_empty(warehouse, src, findings)
    return findings


VOLUMES_DDL = """
create schema if not exists ops;
create table if not exists ops.table_volumes (
    observed_at timestamp with time zone,
    source varchar,
    table_name varchar,
    row_count bigint
)
"""


def raw_row_counts(con, src: str | None = None) -> dict[str, int]:
    """Rows per landed raw table (``raw_<src>.<table>``; every source without ``src``), leaving
    out dlt's bookkeeping tables and its merge staging datasets."""
    schema_filter = (
        "table_schema = ?"
        if src
        else "starts_with(table_schema, 'raw_') and not ends_with(table_schema, '_staging')"
    )
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where {schema_filter} and not starts_with(table_name, '_dlt') order by 1, 2",
        [f"raw_{src}"] if src else [],
    ).fetchall()
    return {
        f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
        for s, t in tables
    }


def record_volumes(warehouse: str | Path, src: str) -> dict[str, int]:
    """Append the row count of every ``raw_<src>`` table to ``ops.table_volumes`` (read by the
    day-over-day volume check, expectations/suites/source_volume.py). Call after a load, with
    the warehouse free for writing."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute(VOLUMES_DDL)
        counts = raw_row_counts(con, src)
        con.executemany(
            "insert into ops.table_volumes values (current_timestamp, ?, ?, ?)",
            [(src, table, n) for table, n in counts.items()],
        )
        return {table.split(".", 1)[1]: n for table, n in counts.items()}
    finally:
        con.close()


SOURCE_LOADS_DDL = """
create schema if not exists ops;
create table if not exists ops.source_loads (
    source varchar primary key,
    status varchar not null,
    attempted_at timestamp with time zone not null,
    last_success_at timestamp with time zone,
    error varchar
)
"""
# what an error message may not carry into the warehouse (and on to a BI page): a URL's user
# and password, its query string (access tokens, keys), and long digit runs (phone numbers)
_REDACT = (
    (re.compile(r"([a-zA-Z][\w+.-]*://)[^/\s'\"]+@"), r"\1…@"),
    (re.compile(r"(https?://[^\s?'\"]+)\?[^\s'\"]*"), r"\1?…"),
    (re.compile(r"\d{7,}"), "…"),
)


def redact(message: str, limit: int = 500) -> str:
    for pattern, replacement in _REDACT:
        message = pattern.sub(replacement, message)
    return message if len(message) <= limit else message[: limit - 1] + "…"


def error_text(exc: BaseException) -> str:
    """What went wrong in a failed load, as the source's own code said it: the outermost error
    in the chain that dlt or Dagster did not raise (theirs wrap it with load ids and stages),
    else the innermost one."""
    chain = [exc]
    while (inner := chain[-1].__cause__ or chain[-1].__context__) is not None:
        if inner in chain:
            break
        chain.append(inner)
    ours = [e for e in chain if not type(e).__module__.startswith(("dlt.", "dagster"))]
    error = ours[0] if ours else chain[-1]
    return f"{error.__class__.__name__}: {error}".strip()


def record_source_load(warehouse: str | Path, src: str, error: str | None = None) -> dict[str, Any]:
    """Record the outcome of a load of ``src`` in ``ops.source_loads`` (one row per source):
    ``ok``, or ``failed`` with the error (redacted); ``last_success_at`` is the source's last
    completed load in dlt's load log (``raw_<src>._dlt_loads``), kept when a load fails.
    Returns the row."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute(SOURCE_LOADS_DDL)
        return _record_source_load(con, src, error)
    finally:
        con.close()


def record_source_loads(warehouse: str | Path, srcs: list[str]) -> None:
    """``record_source_load`` of each of ``srcs``, ``ok``, through one connection."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute(SOURCE_LOADS_DDL)
        for src in srcs:
            _record_source_load(con, src, None)
    finally:
        con.close()


def _record_source_load(con, src: str, error: str | None) -> dict[str, Any]:
    # the source's last completed load in dlt's own log (the load just made, when it worked)
    last_load = None
    if con.execute(
        "select 1 from information_schema.tables "
        "where table_schema = ? and table_name = '_dlt_loads'",
        [f"raw_{src}"],
    ).fetchone():
        last_load = con.execute(
            f'select max(inserted_at) from "raw_{src}"._dlt_loads where status = 0'
        ).fetchone()[0]
    ok = error is None
    con.execute(
        """
        insert into ops.source_loads
        values (
            ?, ?, current_timestamp,
            case when ? then coalesce(?::timestamptz, current_timestamp) end, ?
        )
        on conflict (source) do update set
            status = excluded.status,
            attempted_at = excluded.attempted_at,
            last_success_at = coalesce(excluded.last_success_at, source_loads.last_success_at),
            error = excluded.error
        """,
        [src, "ok" if ok else "failed", ok, last_load, None if ok else redact(error)],
    )
    if not ok and last_load is not None:
        con.execute(
            "update ops.source_loads set last_success_at = coalesce(last_success_at, ?) "
            "where source = ?",
            [last_load, src],
        )
    row = con.execute(
        "select source, status, attempted_at, last_success_at, error "
        "from ops.source_loads where source = ?",
        [src],
    ).fetchone()
    return dict(
        zip(("source", "status", "attempted_at", "last_success_at", "error"), row, strict=True)
    )


# ops.run_state key: the tables a load of a source is appending to as their first load, until
# their rows are settled (``settle_first_loads``)
FIRST_LOAD_STATE = "first_load:{src}"


def _merge_tables(source: DltSource) -> dict[str, DltResource]:
    """The source's selected resources that merge, by the table they land in."""
    return {
        str(r.table_name): r
        for r in source.selected_resources.values()
        if r.write_disposition == "merge" and isinstance(r.table_name, str)
    }


def _dedup_order(resource: DltResource) -> str | None:
    """The column (and direction) dlt's merge keeps the first of when a key repeats in a load."""
    columns = resource.columns if isinstance(resource.columns, dict) else {}
    for name, hints in columns.items():
        order = hints.get("dedup_sort")
        if order:
            return f'"{name}" {"desc" if order == "desc" else "asc"}'
    return None


def append_first_loads(src: str, source: DltSource, warehouse: str | Path) -> list[str]:
    """A merge on the primary key into an empty table stages every row, then deletes and
    inserts it per key: on a table not landed yet (or empty) the load appends instead, and
    merges from the next load on. Returns the tables this load appends to; a key repeated in
    the load is settled after it (``settle_first_loads``) as the merge would have kept it.
    Tables an earlier first load left unsettled (the process died in between) are settled
    first."""
    import duckdb

    schema = f"raw_{src}"
    merging = _merge_tables(source)
    if not merging:
        return []
    con = duckdb.connect(str(warehouse))
    try:
        from salesops import runstate

        pending = runstate.read(con, FIRST_LOAD_STATE.format(src=src))
        if pending:
            _settle(con, schema, pending["tables"])
        landed = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        }
        first = []
        for table in sorted(merging):
            if table in landed:
                empty = not con.execute(f'select 1 from "{schema}"."{table}" limit 1').fetchone()
                if not empty:
                    continue
            first.append(table)
        if first:
            runstate.write(
                con,
                FIRST_LOAD_STATE.format(src=src),
                {
                    "tables": {
                        t: {
                            "key": _key_columns(merging[t]),
                            "order": _dedup_order(merging[t]),
                        }
                        for t in first
                    }
                },
            )
    finally:
        con.close()
    if first:
        logging.getLogger("dlt").addFilter(_APPEND_LOG_FILTER)  # once: the same object
    for table in first:
        merging[table].apply_hints(write_disposition="append")
    return first


def _key_columns(resource: DltResource) -> list[str]:
    key = resource._hints.get("primary_key")  # the hint as the resource was given it
    return [key] if isinstance(key, str) else list(key or ())


def _settle(con, schema: str, tables: dict[str, dict[str, Any]]) -> None:
    """Keep one row per key in ``tables`` (appended by a first load), the one dlt's merge keeps:
    the first by the dedup order, else any."""
    present = {
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    }
    for table, how in tables.items():
        if table not in present or not how["key"]:
            continue
        qualified = f'"{schema}"."{table}"'
        key = ", ".join(f'"{c}"' for c in how["key"])
        repeated = con.execute(
            f"select count(*) from (select 1 from {qualified} group by {key} having count(*) > 1)"
        ).fetchone()[0]
        if not repeated:
            continue
        on = " and ".join(f't."{c}" is not distinct from r."{c}"' for c in how["key"])
        order = how["order"] or "t.rowid"
        con.execute(
            f"""
            delete from {qualified} where rowid in (
                select rowid from (
                    select t.rowid, row_number() over (partition by {key} order by {order}) as n
                    from {qualified} as t
                    semi join (
                        select {key} from {qualified} group by {key} having count(*) > 1
                    ) as r on {on}
                ) where n > 1
            )
            """
        )
        logger.info(
            "%s.%s: %d key(s) came more than once; one row kept each", schema, table, repeated
        )


def settle_first_loads(src: str, warehouse: str | Path) -> None:
    """After a load that appended to tables as their first load (``append_first_loads``): a key
    that came more than once keeps the row dlt's merge would have kept."""
    import duckdb

    from salesops import runstate

    con = duckdb.connect(str(warehouse))
    try:
        pending = runstate.read(con, FIRST_LOAD_STATE.format(src=src))
        if pending:
            con.execute("begin")
            _settle(con, f"raw_{src}", pending["tables"])
            con.execute(
                "delete from ops.run_state where key = ?", [FIRST_LOAD_STATE.format(src=src)]
            )
            con.execute("commit")
    finally:
        con.close()
