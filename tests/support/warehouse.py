"""Reading a built org's warehouse in tests."""

from __future__ import annotations

import duckdb


def query(run, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of ``sql`` on ``run``'s warehouse (a DemoRun), opened read-only."""
    con = duckdb.connect(str(run.config.warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()
