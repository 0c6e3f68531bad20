"""A run's own event file is written without a disk sync per event; the instance's index, run
list and schedules keep SQLite's default (orchestration/eventlog.py)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg
import sqlalchemy

import orchestration.definitions  # noqa: F401  (installs the rule, as every run process does)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from bench_eventlog import checked_asset  # noqa: E402


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


READ_BACK = """
import json, dagster as dg
with dg.DagsterInstance.get() as instance:
    out = {}
    for run_id in json.loads(input()):
        records = instance.get_records_for_run(run_id, limit=10000).records
        out[run_id] = sum(
            r.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
            for r in records
        )
    latest = instance.get_latest_materialization_event(dg.AssetKey("counted"))
    out["latest"] = latest.run_id
    print(json.dumps(out))
"""


def test_a_new_home_gets_the_projects_settings_and_its_event_log_keeps_connections_open(
    tmp_path, monkeypatch
):
    from orchestration import runner
    from orchestration.eventlog import OPEN_FILES, PooledSqliteEventLogStorage

    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    said: list[str] = []
    opened: list[str] = []

    def count(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            opened.append(dbapi_connection.execute("PRAGMA database_list").fetchone()[2])

    asset = checked_asset(40, "counted")
    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", count)
    run_ids = []
    try:
        with runner.home_instance(said.append) as instance:
            assert said == [f"{home / 'dagster.yaml'}: the project's instance settings "
                            "(orchestration/dagster.yaml)"]  # fmt: skip
            storage = instance.event_log_storage
            assert isinstance(storage, PooledSqliteEventLogStorage)
            for _ in range(OPEN_FILES + 2):  # more run files than the engines kept open
                result = dg.materialize([asset], instance=instance)
                assert result.success
                run_ids.append(result.run_id)
            events = sum(len(instance.all_logs(r)) for r in run_ids)
            assert len(storage._engines) <= OPEN_FILES
            # every run's events and checks, read while this process holds its connections
            # open, by another process (as the UI and the daemon read them)
            other = subprocess.run(
                [sys.executable, "-c", READ_BACK],
                input=json.dumps(run_ids),
                env={**os.environ, "DAGSTER_HOME": str(home)},
                capture_output=True,
                text=True,
                check=True,
            )
            assert json.loads(other.stdout) == {**dict.fromkeys(run_ids, 40), "latest": run_ids[-1]}
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "connect", count)
    event_files = [p for p in opened if Path(p).parent == home / "history" / "runs"]
    # Dagster's own storage opens a connection per event written or read (over 100 per run
    # here); kept open, a run file is opened a few times (set up, then written)
    assert events > 100 * len(run_ids)
    assert len(event_files) < 5 * len(run_ids)
    # the file is not written again when there is one
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    with runner.home_instance(said.append) as instance:
        assert not isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    assert len(said) == 1


def test_the_event_log_is_in_the_folder_of_its_instance_whatever_dagster_home_says(
    tmp_path, monkeypatch
):
    from orchestration import runner

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(runner.INSTANCE_SETTINGS, home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_id = dg.materialize([checked_asset(2, "counted")], instance=instance).run_id
    assert (home / "history" / "runs" / f"{run_id}.db").is_file()
    assert not (tmp_path / "elsewhere").exists()
