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

Dagster's storage also opens a new SQLAlchemy engine and SQLite connection for every statement
and closes it after: ~8 ms an event on an idle machine, ~1,200 events in an S demo run (a
planned output and check per dbt model and test, then their results). The project's
``dagster.yaml`` names ``PooledSqliteEventLogStorage`` instead: the same files and tables, its
engines kept open (one per file, the few most recent run files and the index).
"""

from __future__ import annotations

import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import sqlalchemy
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine

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


# the SQLite files whose engines stay open: the index and the runs this process writes or reads
OPEN_FILES = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log (``$DAGSTER_HOME/history/runs``, one file per run and an
    index), its engines kept open between statements instead of made for each one.

    Each statement still runs in its own transaction under the storage's lock, as Dagster's
    does; a pooled connection is only reused, never shared by two statements at once. Other
    processes (the UI, the daemon) read and write the same files as before: SQLite's WAL lets
    them read while a connection here stays open, and a writer waits on the busy timeout."""

    def __init__(self, base_dir: str | None = None, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables: set[str] = set()  # tables of the index found there (none is dropped)
        self._inst_data = inst_data
        self._base_dir = None
        if base_dir is not None:
            super().__init__(base_dir, inst_data)

    def register_instance(self, instance) -> None:
        # Without a base_dir of its own, the files are where Dagster's default keeps them: in
        # the instance's folder (the one its dagster.yaml is in), known only from here on
        if self._base_dir is None:
            base = os.path.join(instance.root_directory, "history", "runs")
            super().__init__(base, self._inst_data)
        super().register_instance(instance)

    @classmethod
    def config_type(cls):
        return {"base_dir": dg.Field(dg.StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(base_dir=config_value.get("base_dir"), inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = sqlalchemy.create_engine(
                self.conn_string_for_shard(shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                # one kept; setting a file up (Dagster's _initdb) briefly opens a second
                pool_size=1,
                max_overflow=2,
            )
        self._engines[shard] = engine  # the most recently used last
        while len(self._engines) > OPEN_FILES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Asked before every check result is stored (Dagster's opens an engine to answer)."""
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
