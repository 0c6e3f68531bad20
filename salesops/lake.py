"""The raw layer of the Spark engine: Parquet files written by dlt's filesystem destination.

On ``warehouse: {engine: spark}`` every source loads with the same dlt source as on DuckDB; only
the destination changes (``ingest.pipelines.make_pipeline``): dlt's filesystem destination
writes each load as Parquet under ``<spark_dir>/lake/<dataset>/<table>/load_date=<day>/``
(``LAYOUT``: one folder per day of load, UTC), dlt's load log and schema versions as JSON lines
beside them.

The filesystem destination appends and replaces; it does not merge. A raw table is therefore
read as what dlt's merge leaves on DuckDB: for a table with a primary key and the ``merge``
disposition, the latest row per key (latest load first, then the column dlt dedups on within a
load) unless that row is a hard delete (``_u8_deleted``, ``_wecom_deleted``: the key is gone);
only rows of completed loads (``_dlt_loads``) count. ``relation_sql`` is that query, the same on
both engines: registered as views on Spark (``register_spark``) and in the DuckDB warehouse
(``attach_duckdb``), where the ops steps read the raw layer (volumes, load log, run state, the
sheets' load report), and run by ``ingest.pipelines.landed_keys`` (U8 and WeCom deletes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# where each load's files go: one folder per table and day of load (UTC)
LAYOUT = "{table_name}/load_date={YYYY}-{MM}-{DD}/{load_id}.{file_id}.{ext}"
LOADS = "_dlt_loads"
VERSIONS = "_dlt_version"
# a load's id, from a file name the layout writes ({load_id}.{file_id}.parquet)
LOAD_ID_PATTERN = "([0-9]+[.][0-9]+)[.][0-9a-z]+[.]parquet$"
# helper columns the queries add (not in any view)
LOAD_ID, FILE, ROW = "load_id__", "file__", "row__"

# dlt data types as each engine's SQL types (for a column no file holds yet)
_TYPES = {
    "duckdb": {
        "text": "varchar",
        "bigint": "bigint",
        "double": "double",
        "bool": "boolean",
        "date": "date",
        "json": "varchar",
        "binary": "blob",
        "timestamp": "timestamptz",
        "timestamp_ntz": "timestamp",
    },
    "spark": {
        "text": "string",
        "bigint": "bigint",
        "double": "double",
        "bool": "boolean",
        "date": "date",
        "json": "string",
        "binary": "binary",
        "timestamp": "timestamp",
        "timestamp_ntz": "timestamp_ntz",
    },
}


@dataclass(frozen=True)
class Table:
    """A raw table as dlt's schema describes it: what reading it like a merge needs."""

    dataset: str
    name: str
    columns: tuple[tuple[str, dict[str, Any]], ...]
    primary_key: tuple[str, ...] = ()
    merge: bool = False
    hard_delete: str | None = None
    dedup_sort: tuple[str, str] | None = None

    def folder(self, lake: Path) -> Path:
        return Path(lake) / self.dataset / self.name


def lake_dir(spark_dir: Path) -> Path:
    """Where dlt's filesystem destination writes the Spark engine's raw layer."""
    return Path(spark_dir).resolve() / "lake"


def tables(dataset: str, schema: dict[str, Any]) -> list[Table]:
    """The data tables of a dlt schema (``Schema.to_dict()`` or a stored version)."""
    out = []
    for name, table in schema.get("tables", {}).items():
        if name.startswith("_dlt") or table.get("parent"):
            continue
        columns = tuple(
            (c, dict(spec)) for c, spec in table.get("columns", {}).items() if spec.get("data_type")
        )
        if not columns:
            continue

        def having(hint: str, cols=columns) -> list[str]:
            return [c for c, spec in cols if spec.get(hint)]

        merge = table.get("write_disposition") == "merge"
        primary_key = tuple(having("primary_key"))
        if merge and not primary_key:
            raise ValueError(
                f"{dataset}.{name}: the merge disposition without a primary key cannot be read "
                "from the lake (the filesystem destination appends); give the resource one"
            )
        hard = having("hard_delete")
        sort = [(c, spec["dedup_sort"]) for c, spec in columns if spec.get("dedup_sort")]
        out.append(
            Table(
                dataset=dataset,
                name=name,
                columns=columns,
                primary_key=primary_key,
                merge=merge,
                hard_delete=hard[0] if hard else None,
                dedup_sort=sort[0] if sort else None,
            )
        )
    return sorted(out, key=lambda t: t.name)


def stored_schema(lake: Path, dataset: str) -> dict[str, Any] | None:
    """The newest dlt schema stored in the lake for ``dataset`` (none before its first load)."""
    folder = Path(lake) / dataset / VERSIONS
    newest = None
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if newest is None or row["inserted_at"] > newest["inserted_at"]:
                    newest = row
    return json.loads(newest["schema"]) if newest else None


def datasets(lake: Path) -> list[str]:
    root = Path(lake)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / VERSIONS).is_dir())


def _quote(name: str, engine: str) -> str:
    q = "`" if engine == "spark" else '"'
    return q + name.replace(q, q + q) + q


def sql_type(spec: dict[str, Any], engine: str) -> str:
    kind = spec["data_type"]
    if kind == "decimal":
        return f"decimal({spec.get('precision', 38)},{spec.get('scale', 9)})"
    if kind == "timestamp" and spec.get("timezone") is False:
        kind = "timestamp_ntz"
    if kind not in _TYPES[engine]:
        raise ValueError(f"dlt type {kind} has no {engine} type in salesops.lake")
    return _TYPES[engine][kind]


def relation_sql(
    table: Table, files: str, present: set[str], loads: str, engine: str = "duckdb"
) -> str:
    """``table`` as dlt's merge leaves it, from ``files`` (a relation of every row the lake
    holds, with the load id of each row's file as ``load_id__``), counting only the loads in
    ``loads`` (a relation with ``load_id``). Columns no file holds yet are typed nulls."""
    q = lambda c: _quote(c, engine)  # noqa: E731
    cols = ", ".join(
        q(c) if c in present else f"cast(null as {sql_type(spec, engine)}) as {q(c)}"
        for c, spec in table.columns
    )
    rows = (
        f"select {cols}, {LOAD_ID} from {files} "
        f"where {LOAD_ID} in (select load_id from {loads} where status = 0)"
    )
    names = ", ".join(q(c) for c, _ in table.columns)
    if not table.merge:
        return f"select {names} from ({rows}) as r"
    order = [f"{LOAD_ID} desc"]
    if table.dedup_sort:
        column, direction = table.dedup_sort
        order.append(f"{q(column)} {'asc' if direction == 'asc' else 'desc'} nulls last")
    keep = f"{ROW} = 1"
    if table.hard_delete:
        spec = dict(table.columns)[table.hard_delete]
        gone = q(table.hard_delete)
        is_bool = spec["data_type"] == "bool"
        deleted = f"coalesce({gone}, false)" if is_bool else f"{gone} is not null"
        keep += f" and not {deleted}"
    partition = ", ".join(q(c) for c in table.primary_key)
    return (
        f"select {names} from (select *, row_number() over (partition by {partition} "
        f"order by {', '.join(order)}) as {ROW} from ({rows}) as r) as l where {keep}"
    )


# DuckDB


def _duckdb_files(table: Table, lake: Path) -> str:
    pattern = str(table.folder(lake) / "*" / "*.parquet").replace("'", "''")
    return (
        f"(select * exclude ({FILE}), regexp_extract({FILE}, '{LOAD_ID_PATTERN}', 1) as {LOAD_ID} "
        f"from read_parquet('{pattern}', union_by_name = true, hive_partitioning = false, "
        f"filename = '{FILE}'))"
    )


def _duckdb_loads(lake: Path, dataset: str) -> str:
    pattern = str(Path(lake) / dataset / LOADS / "*.jsonl").replace("'", "''")
    return (
        "(select load_id, schema_name, cast(status as bigint) as status, "
        "cast(inserted_at as timestamptz) as inserted_at, schema_version_hash "
        f"from read_json('{pattern}', format = 'newline_delimited', columns = {{"
        "load_id: 'varchar', schema_name: 'varchar', status: 'bigint', "
        "inserted_at: 'varchar', schema_version_hash: 'varchar'}))"
    )


def duckdb_relation(con, lake: Path, table: Table) -> str | None:
    """The query of ``table`` (as merged) on a DuckDB connection; None while no file exists."""
    if not any(table.folder(lake).glob("*/*.parquet")):
        return None
    files = _duckdb_files(table, lake)
    present = {r[0] for r in con.execute(f"describe select * from {files}").fetchall()}
    return relation_sql(table, files, present, _duckdb_loads(lake, table.dataset), "duckdb")


def attach_duckdb(warehouse: Path, lake: Path, dataset: str) -> list[str]:
    """The lake's tables of ``dataset`` as views in the DuckDB warehouse (same schema and
    names as the DuckDB engine's tables), and dlt's load log as ``_dlt_loads``; returns
    schema.name per view. A table loaded there by the DuckDB engine is not replaced."""
    import duckdb

    schema = stored_schema(lake, dataset)
    if schema is None:
        return []
    made = []
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f'create schema if not exists "{dataset}"')
        views = [(LOADS, f"select * from {_duckdb_loads(lake, dataset)}")]
        for table in tables(dataset, schema):
            query = duckdb_relation(con, lake, table)
            if query is not None:
                views.append((table.name, query))
        for name, query in views:
            kind = con.execute(
                "select table_type from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [dataset, name],
            ).fetchone()
            if kind and kind[0] != "VIEW":
                raise RuntimeError(
                    f"{warehouse}: {dataset}.{name} is a table the duckdb engine loaded; the "
                    f"spark engine reads the raw layer from {lake}: use another warehouse file "
                    f"for it, or drop schema {dataset} there"
                )
            con.execute(f'create or replace view "{dataset}"."{name}" as {query}')
            made.append(f"{dataset}.{name}")
    return made


# Spark


def register_spark(spark, lake: Path) -> list[str]:
    """Every dataset of the lake on Spark: each table's files as an external Parquet table in
    database ``lake`` (the schema of all its files, read recursively), the table as merged as a
    view under the same schema and name as on DuckDB, and dlt's load log as ``_dlt_loads``.
    Returns schema.name per view."""
    made = []
    spark.sql("create database if not exists `lake`")
    for dataset in datasets(lake):
        schema = stored_schema(lake, dataset)
        spark.sql(f"create database if not exists `{dataset}`")
        loads_dir = Path(lake) / dataset / LOADS
        loads = f"`lake`.`{dataset}__{LOADS}`"
        spark.sql(f"drop table if exists {loads}")
        spark.sql(
            f"create table {loads} (load_id string, schema_name string, status bigint, "
            f"inserted_at string, schema_version_hash string) using json "
            f"location '{loads_dir}'"
        )
        _drop_table(spark, dataset, LOADS)
        spark.sql(
            f"create or replace view `{dataset}`.`{LOADS}` as select load_id, schema_name, "
            f"status, cast(inserted_at as timestamp) as inserted_at, schema_version_hash "
            f"from {loads}"
        )
        made.append(f"{dataset}.{LOADS}")
        for table in tables(dataset, schema or {}):
            folder = table.folder(lake)
            if not any(folder.glob("*/*.parquet")):
                continue
            files = f"`lake`.`{dataset}__{table.name}`"
            frame = (
                spark.read.option("mergeSchema", "true")
                .option("recursiveFileLookup", "true")
                .parquet(str(folder))
            )
            spark.sql(f"drop table if exists {files}")
            spark.sql(
                f"create table {files} ({frame.schema.toDDL()}) using parquet "
                f"options (recursiveFileLookup 'true', mergeSchema 'true') location '{folder}'"
            )
            with_load = (
                f"(select *, regexp_extract(_metadata.file_name, '{LOAD_ID_PATTERN}', 1) "
                f"as {LOAD_ID} from {files})"
            )
            query = relation_sql(table, with_load, set(frame.columns), loads, "spark")
            _drop_table(spark, dataset, table.name)
            spark.sql(f"create or replace view `{dataset}`.`{table.name}` as {query}")
            made.append(f"{dataset}.{table.name}")
    return made


def _drop_table(spark, schema: str, name: str) -> None:
    """Drop ``schema.name`` when it is a table (registered before the lake held it): a view
    takes its place."""
    qualified = f"`{schema}`.`{name}`"
    if (
        spark.catalog.tableExists(qualified)
        and spark.catalog.getTable(qualified).tableType != "VIEW"
    ):
        spark.sql(f"drop table {qualified}")
