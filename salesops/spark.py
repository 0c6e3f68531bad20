"""The warehouse on Apache Spark: the same dbt models, another engine.

``warehouse: {engine: spark, spark_dir: …}`` in the run configuration builds the models with
dbt-spark (``--target spark``, session mode: a local PySpark in the dbt process, its tables
Parquet under ``spark_dir/tables`` with a Derby metastore beside them, so each dbt invocation
sees what the last one wrote). The sources load into the lake (``salesops.lake``: the same dlt
sources, dlt's filesystem destination, Parquet partitioned by day of load); before dbt runs,
every raw table of the lake is registered on Spark as a view that reads it as dlt's merge would
have left it, and the ops tables the steps before dbt write into the DuckDB file (schema
``ops``: contracts, loads, volumes, run state) are written as Parquet and registered, all under
the same schema and name as on DuckDB, so ``source()`` resolves alike on both engines. After the
build the BI hand-off is published from Spark's marts into the same DuckDB file the DuckDB
engine publishes (``publish_marts``), so the pages read one format whichever engine ran.

Derby lets one JVM at a time open the metastore, and keeps it open until that JVM exits: the
sessions opened here run in a child process, which has ended before dbt starts its own.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb

from salesops import lake

# schemas of the DuckDB warehouse that Spark reads as sources
RAW_SCHEMA_PREFIX = "raw_"
OPS_SCHEMA = "ops"
# DuckDB types Parquet or Spark cannot carry as they are: written as text
_AS_TEXT = ("JSON", "TIME", "UUID", "INTERVAL", "HUGEINT", "UHUGEINT", "BIT")


def spark_env(spark_dir: Path) -> dict[str, str]:
    """Environment variables profiles.yml reads for the spark target."""
    return {"SALESOPS_SPARK_DIR": str(Path(spark_dir).resolve())}


def session_config(spark_dir: Path) -> dict[str, str]:
    """The Spark settings of the dbt ``spark`` target (profiles.yml), for sessions opened here."""
    d = Path(spark_dir).resolve()
    return {
        "spark.master": "local[2]",
        "spark.app.name": "salesops",
        "spark.sql.warehouse.dir": str(d / "tables"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={d / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={d}",
        "spark.driver.memory": os.environ.get("SALESOPS_SPARK_MEMORY", "2g"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "2",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.ansi.enabled": "false",
    }


@contextmanager
def session(spark_dir: Path) -> Iterator[object]:
    """A local Spark session on the warehouse in ``spark_dir``, stopped on exit."""
    from pyspark.sql import SparkSession

    Path(spark_dir).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_config(spark_dir).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def _raw_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and (table_schema like ? or table_schema = ?) "
        "order by 1, 2",
        [RAW_SCHEMA_PREFIX + "%", OPS_SCHEMA],
    ).fetchall()
    # dlt's own tables come along (source freshness reads _dlt_loads); its merge staging not
    return [(s, t) for s, t in rows if not s.endswith("_staging")]


def _select_list(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    cols = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    out = []
    for name, dtype in cols:
        quoted = '"' + name.replace('"', '""') + '"'
        if dtype.upper().split("(")[0] in _AS_TEXT:
            out.append(f"cast({quoted} as varchar) as {quoted}")
        else:
            out.append(quoted)
    return ", ".join(out)


Exported = list[tuple[str, str, Path, list[str]]]


def export_raw(
    warehouse: Path, spark_dir: Path, tables: list[tuple[str, str]] | None = None
) -> Exported:
    """Write every raw table of the DuckDB warehouse (or the (schema, name) ``tables``, views
    too) as Parquet under ``spark_dir/raw``.

    Returns (schema, table, folder, columns) per table; a table's folder is replaced whole, so
    a table that shrank or changed columns is not mixed with its last export.
    """
    out_root = Path(spark_dir).resolve() / "raw"
    written = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table in tables or _raw_tables(con):
            folder = out_root / schema / table
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            con.execute(
                f'copy (select {_select_list(con, schema, table)} from "{schema}"."{table}") '
                f"to '{folder / 'part-0.parquet'}' (format parquet)"
            )
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
            ]
            written.append((schema, table, folder, columns))
    return written


def register_raw(spark, exported: Exported) -> None:
    """Register exported raw tables on Spark (external Parquet tables, same schema and name).
    A table registered before with the same columns is only refreshed (its files were
    replaced); one whose columns changed is registered again."""
    for schema in sorted({e[0] for e in exported}):
        spark.sql(f"create database if not exists `{schema}`")
    known = {
        (schema, t.name)
        for schema in {e[0] for e in exported}
        for t in spark.catalog.listTables(schema)
    }
    for schema, table, folder, columns in exported:
        name = f"`{schema}`.`{table}`"
        if (schema, table) in known:
            registered = [c.name.lower() for c in spark.catalog.listColumns(f"{schema}.{table}")]
            if registered == [c.lower() for c in columns]:
                spark.sql(f"refresh table {name}")
                continue
            spark.sql(f"drop table {name}")
        spark.sql(f"create table {name} using parquet location '{folder}'")


def _in_child(fn: Callable, *args: object) -> object:
    """``fn(*args)`` in a fresh process (its JVM, and Derby's hold on the metastore, end
    with it)."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, *args).result()


def run_in_session(fn: Callable, spark_dir: Path, *args: object) -> object:
    """``fn(spark, *args)`` on a Spark session on ``spark_dir``, in a child process (``fn`` a
    module-level function; its arguments and result picklable)."""
    return _in_child(_call_in_session, fn, Path(spark_dir), *args)


def _call_in_session(fn: Callable, spark_dir: Path, *args: object) -> object:
    with session(spark_dir) as spark:
        return fn(spark, *args)


def _register(spark_dir: Path, exported: Exported, with_lake: bool) -> int:
    with session(spark_dir) as spark:
        register_raw(spark, exported)
        return len(lake.register_spark(spark, lake.lake_dir(spark_dir))) if with_lake else 0


def load_raw(warehouse: Path, spark_dir: Path, tables: list[tuple[str, str]] | None = None) -> int:
    """The raw layer onto Spark: the lake's tables and the DuckDB file's tables of ``raw_*``
    and ``ops`` (or only the DuckDB file's ``tables``, views too); returns the number of
    tables registered."""
    exported = export_raw(warehouse, spark_dir, tables)
    return len(exported) + _in_child(_register, Path(spark_dir), exported, tables is None)


def fit_win_model(spark_dir: Path, reuse: bool = True) -> int:
    """The win model's fit (salesops.win_model) on Spark's features and settings, written as
    the Parquet table ``ml.win_model_fit``; returns its rows. ``reuse``: the months of the
    table as it stands whose input is unchanged are not fitted again (not on a full refresh)."""
    return _in_child(_fit_win_model, Path(spark_dir), reuse)


def _fit_win_model(spark_dir: Path, reuse: bool) -> int:
    from pyspark.sql import types as T

    from salesops import win_model

    spark_types = {
        "timestamp[us]": T.TimestampType(),
        "string": T.StringType(),
        "double": T.DoubleType(),
        "int64": T.LongType(),
        "bool": T.BooleanType(),
    }
    schema = T.StructType(
        [T.StructField(f.name, spark_types[str(f.type)]) for f in win_model.SCHEMA]
    )
    with session(spark_dir) as spark:
        features = spark.table("`{}`.`{}`".format(*win_model.FEATURES)).toPandas()
        settings = spark.table("`{}`.`{}`".format(*win_model.SETTINGS)).toPandas()
        fit = f"`{win_model.FIT_SCHEMA}`.`{win_model.FIT_TABLE}`"
        previous = None
        if reuse and spark.catalog.tableExists(win_model.FIT_TABLE, win_model.FIT_SCHEMA):
            previous = spark.table(fit).toPandas()
        table = win_model.fit_table(features, settings, previous)
        spark.sql(f"create database if not exists `{win_model.FIT_SCHEMA}`")
        spark.createDataFrame(table.to_pylist(), schema=schema).write.mode("overwrite").format(
            "parquet"
        ).saveAsTable(f"`{win_model.FIT_SCHEMA}`.`{win_model.FIT_TABLE}`")
        return table.num_rows


def mart_tables(spark, schema: str = "marts") -> list[str]:
    return sorted(
        row.tableName
        for row in spark.sql(f"show tables in `{schema}`").collect()
        if not row.isTemporary
    )


def publish_marts(
    spark_dir: Path, target: Path, schemas: tuple[str, ...] = ("marts",)
) -> list[str]:
    """Copy Spark's tables and views of ``schemas`` into a DuckDB file (same schema and names,
    as tables), replacing those of the same name: the file the DuckDB engine's warehouse holds
    them in, which checks and the BI hand-off read alike. Returns schema.name per table."""
    return _in_child(_publish, Path(spark_dir), Path(target), schemas)


def _publish(spark_dir: Path, target: Path, schemas: tuple[str, ...]) -> list[str]:
    # each table goes through Parquet files Spark's executors write and DuckDB reads, never
    # through the driver's memory (collecting a mart of millions of rows ran it out of heap)
    names = []
    staged = Path(spark_dir) / "publish"
    shutil.rmtree(staged, ignore_errors=True)
    with session(spark_dir) as spark, duckdb.connect(str(target)) as con:
        # instants as Parquet's UTC-adjusted microseconds: DuckDB reads them with their zone
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        for schema in schemas:
            con.execute(f'create schema if not exists "{schema}"')
            for name in mart_tables(spark, schema):
                files = staged / schema / name
                spark.table(f"`{schema}`.`{name}`").write.mode("overwrite").parquet(str(files))
                is_view = con.execute(
                    "select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
                    [schema, name],
                ).fetchone()[0]
                if is_view:  # the DuckDB engine's staging views give way to Spark's rows
                    con.execute(f'drop view "{schema}"."{name}"')
                con.execute(
                    f'create or replace table "{schema}"."{name}" as select * from read_parquet(?)',
                    [str(files / "*.parquet")],
                )
                names.append(f"{schema}.{name}")
    shutil.rmtree(staged, ignore_errors=True)
    return names
