"""A run killed outright (SIGKILL to its process group, as a reboot or the OOM killer in a
container does) blocks no later run: the next ``salesops run`` marks it failed, frees the pool
slot it held, and ends with the raw tables and marts a clean run gives.

Real ``salesops run`` processes are killed at the phase their progress lines announce: during
the CRM load (a dlt load package extracted and not yet written into DuckDB, or being written)
and during the dbt build.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from devkit.demo.serve import served_sources
from orchestration import runner
from orchestration.runner import PROCESS_TAG
from salesops import config as salesops_config
from tests.orchestration.digests import VOLATILE, table_digests

ROOT = Path(__file__).resolve().parents[2]
SALESOPS = Path(sys.executable).with_name("salesops")
LINE_TIMEOUT = 600


class Run:
    """A ``salesops run`` subprocess in its own process group, its output read line by line."""

    def __init__(self, config_path: Path, dagster_home: Path, *options: str):
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            [str(SALESOPS), "run", "--config", str(config_path), "--no-bi", *options],
            cwd=ROOT,
            env={**os.environ, "DAGSTER_HOME": str(dagster_home), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def next_line(self, timeout: float = LINE_TIMEOUT) -> str | None:
        line = self._queue.get(timeout=timeout)
        if line is not None:
            self.lines.append(line)
        return line

    def wait_for(self, predicate, what: str) -> None:
        deadline = time.monotonic() + LINE_TIMEOUT
        while time.monotonic() < deadline:
            line = self.next_line(deadline - time.monotonic())
            if line is None:
                raise AssertionError(f"run ended before {what}:\n" + "\n".join(self.lines[-40:]))
            if predicate(line):
                return
        raise AssertionError(f"no {what} in {LINE_TIMEOUT}s:\n" + "\n".join(self.lines[-40:]))

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)

    def finish(self) -> int:
        while self.next_line() is not None:
            pass
        return self.proc.wait(timeout=60)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _step_line(word: str, step: str):
    return lambda line: line.split("] ", 1)[-1].split() == [word, step]


def _loading(pipelines: Path, src: str) -> bool:
    """A load package of ``src`` is extracted and not yet loaded: being normalized, waiting to be
    written into the warehouse or being written (a first load appends, and at this size its
    writing alone can last less than a poll: the window is from extracted to loaded)."""
    root = pipelines / f"raw_{src}"
    return any((root / "normalize" / "extracted").glob("*")) or any(
        (root / "load" / "normalized").glob("*")
    )


def test_a_killed_run_is_recovered_and_the_next_equals_a_clean_run(clean_org_run, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(home))
    warehouse = tmp_path / "warehouse.duckdb"
    pipelines = tmp_path / ".dlt_pipelines"

    with served_sources(
        clean_org_run.sources, clean_org_run.config.as_of, crm="export"
    ) as sections:
        cfg = salesops_config.from_dict(
            {
                "warehouse": {"path": str(warehouse)},
                "as_of": clean_org_run.config.as_of.isoformat(),
                "sources": sections,
                # without recovery the next run would wait for the dead run's slot: fail fast
                "runs": {"max_wait_minutes": 2},
            },
            base=tmp_path,
        )
        path = tmp_path / "salesops.yml"
        path.write_text(salesops_config.dump(cfg), encoding="utf-8")

        # 1. killed while the CRM load package is being written into DuckDB
        # watched from the start: the progress line saying the CRM step started can come after
        # a first load (an append) is over
        first = Run(path, home)
        deadline = time.monotonic() + 300
        while not _loading(pipelines, "crm"):
            assert first.proc.poll() is None and time.monotonic() < deadline, first.text
            time.sleep(0.002)
        first.kill()
        (dead,) = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert PROCESS_TAG in dead.tags
        assert dead.run_id in instance.event_log_storage.get_concurrency_run_ids()

        # 2. the next run recovers it, then is killed itself during the dbt build (verbose: its
        # console shows dbt's lines, which say when models are being built)
        second = Run(path, home, "--verbose")
        second.wait_for(_step_line("start", "dbt_models"), "start of the dbt build")
        second.wait_for(lambda line: "OK created" in line, "a model built by dbt")
        second.wait_for(lambda line: "OK created" in line, "a second model built by dbt")
        second.kill()
        assert f"run {dead.run_id} was left unfinished" in second.text
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE

        # 3. the one after recovers that one and runs to the end
        third = Run(path, home)
        assert third.finish() == 0, third.text
    assert "succeeded" in third.text and "was left unfinished" in third.text, third.text
    # without --verbose the console holds the progress lines, and dbt's lines are in the run's
    # step-output file, which the summary names
    assert any(_step_line("done", "dbt_models")(line) for line in third.lines), third.text
    assert "OK created" not in third.text, third.text
    (named,) = [line for line in third.lines if line.startswith("  step output")]
    output_log = Path(named.rsplit(": ", 1)[1])
    assert output_log.parent == tmp_path / "logs", named
    assert "OK created" in output_log.read_text(encoding="utf-8")
    # the two killed runs failed; every other Dagster run (a command-line run is the loads'
    # run, then the rest's) succeeded, the last one included
    statuses = [r.status for r in instance.get_runs()]
    assert statuses.count(dg.DagsterRunStatus.FAILURE) == 2, statuses
    assert statuses.count(dg.DagsterRunStatus.SUCCESS) == len(statuses) - 2, statuses
    assert statuses[0] == dg.DagsterRunStatus.SUCCESS, statuses
    assert not instance.event_log_storage.get_concurrency_run_ids()

    got = table_digests(warehouse)
    want = table_digests(clean_org_run.config.warehouse)
    assert set(got) == set(want)
    assert any(k.startswith("raw_crm.") for k in got) and "marts.fct_activities" in got
    differ = {k: (got[k], want[k]) for k in got if k not in VOLATILE and got[k] != want[k]}
    assert not differ


def test_a_run_waiting_for_the_warehouse_names_the_holder_and_gives_up(tmp_path):
    from salesops import locks

    cfg = salesops_config.from_dict(
        {"warehouse": {"path": str(tmp_path / "w.duckdb")}, "runs": {"max_wait_minutes": 0.05}},
        base=tmp_path,
    )
    path = tmp_path / "salesops.yml"
    path.write_text(salesops_config.dump(cfg), encoding="utf-8")
    said: list[str] = []
    with locks.exclusive(Path(f"{cfg.warehouse}.lock"), holder="salesops run, process test:1"):
        outcome = runner.run(path, asset_keys=[], echo=said.append, instance=None)
    assert not outcome.success
    assert any("salesops run, process test:1" in line and "waiting" in line for line in said)
    assert "gave up waiting" in outcome.errors[0] and "max_wait_minutes" in outcome.errors[0]


def _instance_holding_the_pool(tmp_path, process: str) -> tuple[dg.DagsterInstance, str]:
    """An instance (the project's dagster.yaml) whose duckdb_write slot a STARTED run holds."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(home))
    run = instance.add_run(
        dg.DagsterRun(
            job_name="salesops_run_job",
            status=dg.DagsterRunStatus.STARTED,
            tags={PROCESS_TAG: process},
        )
    )
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(runner.POOL)
    assert storage.claim_concurrency_slot(runner.POOL, run.run_id, "ingest_crm").is_claimed
    return instance, run.run_id


def test_a_run_waiting_for_the_pool_names_the_holder_and_gives_up(tmp_path):
    instance, holder = _instance_holding_the_pool(tmp_path, runner.this_process())  # alive
    said: list[str] = []
    with pytest.raises(runner.WaitTimeout, match=holder):
        runner.wait_for_pool(instance, time.monotonic() + 1, said.append)
    assert said == [
        f"waiting for the Dagster pool duckdb_write: held by run {holder} (salesops_run_job, "
        f"step ingest_crm, STARTED, process {runner.this_process().rsplit(':', 1)[0]})"
    ]
    assert instance.get_run_by_id(holder).status == dg.DagsterRunStatus.STARTED


def test_a_slot_held_by_a_process_that_is_gone_is_freed(tmp_path):
    child = subprocess.Popen(["true"])  # a process that has ended
    child.wait()
    process = f"{runner.socket.gethostname()}:{child.pid}:0"
    instance, holder = _instance_holding_the_pool(tmp_path, process)
    said: list[str] = []
    assert runner.recover_dead_runs(instance, said.append) == [holder]
    runner.wait_for_pool(instance, time.monotonic() + 1, said.append)  # free now: no wait
    assert instance.get_run_by_id(holder).status == dg.DagsterRunStatus.FAILURE
    assert not instance.event_log_storage.get_concurrency_run_ids()
    assert said == [
        f"run {holder} was left unfinished by a process that is gone: marked failed",
        f"freed the duckdb_write slots held by run {holder}, which is over",
    ]
