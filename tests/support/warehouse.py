"""Reading a built org's warehouse in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def query(run, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of ``sql`` on ``run``'s warehouse (a DemoRun), opened read-only."""
    return query_file(run.config.warehouse, sql, params)


def query_file(warehouse: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of ``sql`` on the warehouse file, opened read-only."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def first_rows(warehouse: Path, **queries: str) -> dict[str, tuple]:
    """The first row each query gives, by the query's name, on the warehouse file opened
    read-only once."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {name: con.execute(sql).fetchone() for name, sql in queries.items()}
    finally:
        con.close()


def values(warehouse: Path, **queries: str) -> dict[str, Any]:
    """The value each query gives (its first row's first column), by the query's name, on the
    warehouse file opened read-only once."""
    return {name: row[0] for name, row in first_rows(warehouse, **queries).items()}


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every table the sources loaded (``raw_*``), in order; dlt's staging
    schemas and its own tables left out."""
    return con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where starts_with(schema_name, 'raw_') and not ends_with(schema_name, '_staging') "
        "and not starts_with(table_name, '_dlt') order by 1, 2"
    ).fetchall()


def data_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """The columns of ``schema.table`` in their order, dlt's own (``_dlt_load_id``, ``_dlt_id``),
    which differ from load to load, left out."""
    return [
        c
        for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
            "and not starts_with(column_name, '_dlt') order by column_index",
            [schema, table],
        ).fetchall()
    ]
