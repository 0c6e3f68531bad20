"""What a ``salesops run`` is apart from Dagster: its outcome, the process running it, and the
warehouse's lock it holds. Nothing here imports Dagster: a run with nothing new ends before the
pipeline's definitions are imported (``orchestration/shortcut.py``), with the same outcome and
under the same lock as a run that goes on (``orchestration/runner.py``).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from salesops import locks

JOB_NAME = "salesops_run_job"


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    seconds: float
    steps: dict[str, str] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)  # ERROR severity: a real failure
    warned_checks: list[str] = field(default_factory=list)  # WARN: findings in the data
    errors: list[str] = field(default_factory=list)
    evaluated_checks: list[str] = field(default_factory=list)  # every check that reported
    skipped_steps: list[str] = field(default_factory=list)  # steps Dagster skipped
    # when each step began and ended (``time.time()`` seconds, from the run's event log)
    step_spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    recovered_runs: list[str] = field(default_factory=list)  # dead runs marked failed first
    # sources whose load failed this run -> error (also first in ``errors``; ``success`` is
    # False): the rest was built, what reads them from their last good load (``status``)
    failed_sources: dict[str, str] = field(default_factory=dict)
    # what the dbt step decided (ops.run_state): built, rebuilt models after a configuration
    # change, or nothing built because nothing was new since the last build
    build_note: str | None = None
    # sources with nothing new since their last load (their stamp): left out of the loads run
    unchanged_sources: list[str] = field(default_factory=list)
    # what the run's steps printed (dbt's log lines among them), unless ``verbose``
    output_log: Path | None = None

    @property
    def step_seconds(self) -> dict[str, float]:
        """Wall time per step."""
        return {step: ended - begun for step, (begun, ended) in self.step_spans.items()}

    @property
    def status(self) -> str:
        """``succeeded``; ``partial`` when sources failed to load and everything else was built
        (what reads them from their last good load); ``failed`` when a step failed."""
        if self.success:
            return "succeeded"
        source_errors = {f"ingest_{src}: {error}" for src, error in self.failed_sources.items()}
        steps_ok = all(v == "ok" for v in self.steps.values())
        if self.failed_sources and steps_ok and set(self.errors) <= source_errors:
            return "partial"
        return "failed"


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), "?" where that cannot
    be read, None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return "?"
        return "?"
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start(pid)}"


class WaitTimeout(TimeoutError):
    """Another run kept the warehouse or the pool longer than ``runs.max_wait_minutes``."""


@contextlib.contextmanager
def warehouse_lock(
    warehouse: Path, echo: Callable[[str], None], timeout: float | None = None
) -> Iterator[None]:
    """One in-process run per warehouse at a time: DuckDB allows one writer per file, and an
    in-process run writes from several steps. A second ``salesops run`` (or a thread) on the
    same warehouse waits here for the first to finish, for ``timeout`` seconds at most. (Runs
    launched by the Dagster daemon are serialised by the ``duckdb_write`` pool instead.)"""
    lock = Path(f"{warehouse}.lock")
    try:
        with locks.exclusive(
            lock,
            lambda: echo(
                f"another run is writing {warehouse} ({locks.holder_of(lock)}): "
                "waiting for it to finish"
            ),
            timeout=timeout,
            holder=f"salesops run, process {this_process().rsplit(':', 1)[0]}",
        ):
            yield
    except locks.LockTimeout as exc:
        raise WaitTimeout(
            f"gave up waiting for another run writing {warehouse}: {exc} "
            "(runs.max_wait_minutes in the run configuration)"
        ) from exc
