"""Run the main Dagster job in-process, for the command line and the demo.

The same definitions that ``dagster dev`` serves run here through ``execute_in_process``, so a
command-line run and a scheduled run share every code path. Progress is printed one line per
step; the full Dagster event log goes to the instance (``DAGSTER_HOME`` when set).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from salesops import config as salesops_config
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
    step_seconds: dict[str, float] = field(default_factory=dict)  # wall time per step


def _progress_logger(
    echo: Callable[[str], None], timings: dict[str, float] | None = None
) -> dg.LoggerDefinition:
    started = time.monotonic()
    step_started: dict[str, float] = {}

    @dg.logger(description="one line per step")
    def step_logger(_init_context):
        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                meta = getattr(record, "dagster_meta", {}) or {}
                event = meta.get("dagster_event")
                step = meta.get("step_key") or ""
                stamp = f"[{time.monotonic() - started:6.1f}s]"
                if event is not None:
                    kind = event.event_type_value
                    if kind == "STEP_START":
                        step_started[step] = time.monotonic()
                    elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and timings is not None:
                        timings[step] = time.monotonic() - step_started.get(step, started)
                    if kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                        word = {
                            "STEP_START": "start",
                            "STEP_SUCCESS": "done ",
                            "STEP_FAILURE": "FAIL ",
                        }[kind]
                        echo(f"{stamp} {word} {step}")
                    elif kind == "ASSET_CHECK_EVALUATION":
                        data = event.event_specific_data
                        if not data.passed:
                            key = data.asset_check_key.to_user_string()
                            if data.severity == dg.AssetCheckSeverity.WARN:
                                echo(f"{stamp} findings: {key} (rows in marts.dq_findings)")
                            else:
                                echo(f"{stamp} check failed: {key}")
                elif record.levelno >= logging.WARNING:
                    echo(f"{stamp} {record.levelname.lower()}: {meta.get('orig_message', '')}")

        log = logging.getLogger("salesops.run")
        log.handlers = [Handler()]
        log.setLevel(logging.DEBUG)  # step events come at DEBUG; the handler picks its lines
        log.propagate = False
        return log

    return step_logger


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, echo: Callable[[str], None]) -> Iterator[None]:
    """One in-process run per warehouse at a time: DuckDB allows one writer per file, and an
    in-process run writes from several steps. A second ``salesops run`` (or a thread) on the
    same warehouse waits here for the first to finish. (Runs launched by the Dagster daemon are
    serialised by the ``duckdb_write`` pool instead.)"""
    with locks.exclusive(
        Path(f"{warehouse}.lock"),
        lambda: echo(f"another run is writing {warehouse}: waiting for it to finish"),
    ):
        yield


def backfill(
    config_path: str | Path,
    first: str,
    last: str,
    echo: Callable[[str], None] = print,
    instance: dg.DagsterInstance | None = None,
) -> RunOutcome:
    """Recompute the daily-partitioned marts for ``first``..``last`` (YYYY-MM-DD, Asia/Shanghai)
    and what reads them, in one run: the same rows a full run gives for those days."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    partitioned = [k for k in graph.get_all_asset_keys() if graph.get(k).is_partitioned]
    selection = dg.AssetSelection.assets(*partitioned).downstream() - (
        dg.AssetSelection.groups("bi").downstream()
    )
    keys = sorted(selection.resolve(graph), key=lambda k: k.to_user_string())
    return run(config_path, asset_keys=keys, echo=echo, instance=instance, partitions=(first, last))


def run(
    config_path: str | Path,
    asset_keys: Sequence[dg.AssetKey] | None = None,
    exclude_groups: Sequence[str] = (),
    echo: Callable[[str], None] = print,
    instance: dg.DagsterInstance | None = None,
    partitions: tuple[str, str] | None = None,
    full_refresh: bool = False,
) -> RunOutcome:
    """Materialise every asset the configuration allows (or ``asset_keys``) in this process.
    ``partitions`` = (first day, last day) runs the partitioned assets for that range only
    (one run, as a Dagster single-run backfill does); ``full_refresh`` rebuilds the
    incremental models from all history."""
    config_path = Path(config_path).resolve()
    cfg = salesops_config.load(config_path)
    os.environ["SALESOPS_CONFIG"] = str(config_path)
    cfg.warehouse.parent.mkdir(parents=True, exist_ok=True)

    from orchestration.definitions import defs
    from orchestration.defs.automation import configured_selection
    from orchestration.defs.transform import FULL_REFRESH_TAG

    job = defs.resolve_job_def(JOB_NAME)
    if asset_keys is None:
        selection = configured_selection(cfg)
        if exclude_groups:
            # what reads an excluded group goes too (the morning report is printed from the site)
            selection = selection - dg.AssetSelection.groups(*exclude_groups).downstream()
        asset_keys = sorted(
            selection.resolve(defs.resolve_asset_graph()),
            key=lambda k: k.to_user_string(),
        )
    if instance is None:
        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    started = time.monotonic()
    timings: dict[str, float] = {}
    job = job.with_logger_defs({"progress": _progress_logger(echo, timings)})
    with warehouse_lock(cfg.warehouse, echo):
        result = job.execute_in_process(
            instance=instance,
            asset_selection=list(asset_keys),
            raise_on_error=False,
            run_config={"loggers": {"progress": {}}},
            tags={
                "salesops/config": str(config_path),
                **({FULL_REFRESH_TAG: "true"} if full_refresh else {}),
                **(
                    {
                        "dagster/asset_partition_range_start": partitions[0],
                        "dagster/asset_partition_range_end": partitions[1],
                    }
                    if partitions
                    else {}
                ),
            },
        )
    outcome = RunOutcome(result.success, result.run_id, time.monotonic() - started)
    outcome.step_seconds = timings
    for event in result.all_events:
        if event.is_step_success or event.is_step_failure:
            outcome.steps[event.step_key] = "ok" if event.is_step_success else "failed"
        if event.is_step_failure:
            err = event.step_failure_data.error
            # the innermost cause says what went wrong (the outer error is Dagster's wrapper)
            while err is not None and err.cause is not None:
                err = err.cause
            outcome.errors.append(f"{event.step_key}: {err.message.strip() if err else ''}")
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            key = evaluation.asset_check_key.to_user_string()
            outcome.evaluated_checks.append(key)
            if not evaluation.passed:
                if evaluation.severity == dg.AssetCheckSeverity.WARN:
                    outcome.warned_checks.append(key)
                else:
                    outcome.failed_checks.append(key)
    return outcome
