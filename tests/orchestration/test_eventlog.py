"""A run's own event file is written without a disk sync per event; the instance's index, run
list and schedules keep SQLite's default (orchestration/eventlog.py)."""

from __future__ import annotations

import sqlite3

import dagster as dg
import sqlalchemy

import orchestration.definitions  # noqa: F401  (installs the rule, as every run process does)


def _synchronous(path) -> int:
    engine = sqlalchemy.create_engine(f"sqlite:///{path}", poolclass=sqlalchemy.pool.NullPool)
    with engine.connect() as con:
        return con.exec_driver_sql("PRAGMA synchronous").scalar()


def test_run_event_files_skip_the_disk_sync_and_the_index_keeps_it(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="one")])
    def one():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="positive", passed=True)

    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([one], instance=instance)
        assert result.success
        run_id = result.run_id
        # the run's events and its check's outcome are all there
        records = instance.get_records_for_run(run_id).records
        kinds = {r.event_log_entry.dagster_event_type for r in records}
        assert dg.DagsterEventType.ASSET_CHECK_EVALUATION in kinds
        assert dg.DagsterEventType.RUN_SUCCESS in kinds

    shards = home / "history" / "runs"
    assert _synchronous(shards / f"{run_id}.db") == 0  # OFF
    assert _synchronous(shards / "index.db") == 2  # FULL, SQLite's default
    assert _synchronous(home / "history" / "runs.db") == 2
    # a SQLite file elsewhere (dlt's, GX's) is left alone
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    assert _synchronous(other) == 2
