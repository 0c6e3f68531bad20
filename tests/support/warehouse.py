"""Reading a built org's warehouse in tests."""

from __future__ import annotations

from pathlib import Path

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
