"""Dagster's SQLite event log, written without waiting on the disk for each run's own events.

Dagster's default instance keeps each run's events in a SQLite file of their own
(``$DAGSTER_HOME/history/runs/<run_id>.db``) and opens a connection per event. In WAL mode the
last connection closing checkpoints the file, and with ``synchronous=FULL`` every checkpoint
waits for the disk: a dbt build of 86 models and ~200 tests writes ~600 events before and while
it runs, tens of milliseconds each on a busy disk. Those per-run files are written with
``synchronous=OFF``: the operating system still gets every write (a crashed process loses
nothing); only a power loss mid-run can damage that one run's event history. The instance's
index (``index.db``: asset materializations and checks, what the UI and the schedules read),
the run list and the schedules keep SQLite's default and are untouched.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import Engine

_installed = False


def run_shards_dir() -> Path | None:
    """Where the instance keeps each run's event file (None without ``DAGSTER_HOME``)."""
    home = os.environ.get("DAGSTER_HOME")
    return Path(home).resolve() / "history" / "runs" if home else None


def _relax(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    shards = run_shards_dir()
    if shards is None:
        return
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    path = Path(row[2]).resolve() if row and row[2] else None
    if path is not None and path.parent == shards and path.name != "index.db":
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def relax_run_event_files() -> None:
    """Install the rule for every SQLAlchemy engine of this process (once)."""
    global _installed
    if not _installed:
        sqlalchemy.event.listen(Engine, "connect", _relax)
        _installed = True
