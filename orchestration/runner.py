"""Run the main Dagster job in-process, for the command line and the demo.

The same definitions that ``dagster dev`` serves run here through ``execute_in_process``, so a
command-line run and a scheduled run share every code path. The full Dagster event log goes
to the instance (``DAGSTER_HOME`` when set, else one in memory), and the progress, one line per
step, is read back from it as the run stores it. A plain run is two Dagster runs: the loads,
then the rest. Between the two the build is decided, once (``buildplan.decide``, from the
tables dbt reads, read then): the rest leaves out dbt and its checks when the loads brought
nothing new since the last build, and, when what they brought reaches only some models, every
other model and its dbt tests (a run that holds them writes an event for every model and
check, planned and unchanged, before and after it finds so; the GX suites run as they would).
The plan goes to the dbt step through a run tag (``transform.PLAN_TAG``), which takes it
instead of deciding again: this process holds the warehouse's lock from the loads to the end
of the build. The loads leave out each source whose stamp says it holds nothing new since its
last load (``ingest.stamps``), for the same reason: a run with nothing new anywhere launches no
Dagster run at all. Such a run is told so before anything here runs (``orchestration.shortcut``:
the stamps and the build decided without importing the definitions), and ends there.

A run killed outright (SIGKILL, the OOM killer, a reboot) cannot tell Dagster it ended: its run
stays STARTED and the slot it held in the pool ``duckdb_write`` stays claimed, which would hold
every later run. So each run is tagged with the process running it (host, pid, the process's
start time), and each start first marks failed the runs whose process is gone and frees their
slots (runs the Dagster daemon launches are watched by its run monitoring instead,
``orchestration/dagster.yaml``). A run that waits for another (the warehouse's lock, the pool)
says which one, and gives up after ``runs.max_wait_minutes`` of the run configuration.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import dagster as dg

from orchestration import shortcut
from orchestration.runs import (
    JOB_NAME,
    RunOutcome,
    WaitTimeout,
    process_start,
    this_process,
    warehouse_lock,
)
from salesops import config as salesops_config

# the instance settings a DAGSTER_HOME without its own dagster.yaml is given
INSTANCE_SETTINGS = Path(__file__).with_name("dagster.yaml")
POOL = "duckdb_write"
# host:pid:start time of the process running an in-process run (to tell when it is gone)
PROCESS_TAG = "salesops/process"
UNFINISHED = (
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)


_STEP_WORDS = {
    dg.DagsterEventType.STEP_START: "start",
    dg.DagsterEventType.STEP_SUCCESS: "done ",
    dg.DagsterEventType.STEP_FAILURE: "FAIL ",
}


# warnings a step logs that say nothing about the data, kept in the run's log file only:
# dagster-dbt's note that a dbt test of a model that is no Dagster asset (an ephemeral
# intermediate model's unique / not_null) is recorded as an observation, not a check (such a
# test failing still fails the build)
QUIET_WARNINGS = ("Logging an `AssetObservation` instead of an `AssetCheckResult`",)


def _progress_line(entry: dg.EventLogEntry, started: float) -> str | None:
    """The line a stored event of the run prints (None: it prints none): a step's start and
    end, a check that did not pass, a warning or error logged by a step (``QUIET_WARNINGS``
    aside)."""
    stamp = f"[{entry.timestamp - started:6.1f}s]"
    event = entry.dagster_event
    if event is None:
        if entry.level == logging.WARNING and entry.user_message.startswith(QUIET_WARNINGS):
            return None
        if entry.level >= logging.WARNING:
            return f"{stamp} {logging.getLevelName(entry.level).lower()}: {entry.user_message}"
        return None
    if event.event_type in _STEP_WORDS:
        return f"{stamp} {_STEP_WORDS[event.event_type]} {event.step_key}"
    if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        data = event.asset_check_evaluation_data
        if not data.passed:
            key = data.asset_check_key.to_user_string()
            if data.severity == dg.AssetCheckSeverity.WARN:
                return f"{stamp} findings: {key} (rows in marts.dq_findings)"
            return f"{stamp} check failed: {key}"
    return None


@contextlib.contextmanager
def progress_watch(
    instance: dg.DagsterInstance,
    run_id: str,
    echo: Callable[[str], None],
    spans: dict[str, tuple[float, float]],
    every: float = 1.0,
    started: float | None = None,
) -> Iterator[None]:
    """While the run executes, one line per step (and per check that did not pass) from the
    run's event log in ``instance``, read as it is stored; when each finished step began and
    ended into ``spans``. What is stored after the last read is printed when the run is over.
    Lines are stamped with the seconds since ``started`` (``time.time()``; default: now)."""
    started = time.time() if started is None else started
    step_started: dict[str, float] = {}
    cursor: str | None = None

    def read() -> None:
        nonlocal cursor
        while True:
            batch = instance.get_records_for_run(run_id, cursor=cursor, limit=500)
            for record in batch.records:
                entry = record.event_log_entry
                event = entry.dagster_event
                if event is not None and event.step_key and event.event_type in _STEP_WORDS:
                    if event.event_type == dg.DagsterEventType.STEP_START:
                        step_started[event.step_key] = entry.timestamp
                    else:
                        begun = step_started.get(event.step_key, started)
                        spans[event.step_key] = (begun, entry.timestamp)
                line = _progress_line(entry, started)
                if line is not None:
                    echo(line)
            cursor = batch.cursor
            if not batch.has_more:
                return

    try:
        with _every(every, read, "progress-watch"):
            yield
    finally:
        read()


@contextlib.contextmanager
def _every(seconds: float, tick: Callable[[], None], name: str) -> Iterator[None]:
    """``tick()`` every ``seconds`` in a thread of its own while the block runs."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(seconds):
            tick()

    thread = threading.Thread(target=watch, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _process_gone(process: str) -> bool:
    """True when the process a run was tagged with has ended (only known on this host)."""
    host, pid, started = process.rsplit(":", 2)
    if host != socket.gethostname():
        return False
    now = process_start(int(pid))
    return now is None or "?" not in (now, started) and now != started


def _describe(instance: dg.DagsterInstance, run_id: str, step_key: str | None = None) -> str:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"run {run_id} (not in this instance)"
    where = f", step {step_key}" if step_key else ""
    process = run.tags.get(PROCESS_TAG)
    by = f", process {process.rsplit(':', 1)[0]}" if process else ""
    return f"run {run_id} ({run.job_name}{where}, {run.status.value}{by})"


def recover_dead_runs(
    instance: dg.DagsterInstance, echo: Callable[[str], None] = print
) -> list[str]:
    """Mark failed every unfinished run whose process is gone (killed, crashed) and free the
    pool slots it held; free the slots any finished run still holds. Returns the runs failed."""
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(UNFINISHED))):
        process = run.tags.get(PROCESS_TAG)
        if not process or not _process_gone(process):
            continue
        instance.report_run_failed(
            run,
            message=(
                f"the process running it ({process.rsplit(':', 1)[0]}) is gone (killed or "
                "crashed); marked failed by the next salesops run"
            ),
        )
        failed.append(run.run_id)
        echo(f"run {run.run_id} was left unfinished by a process that is gone: marked failed")
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        for run_id in sorted(storage.get_concurrency_run_ids()):
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                echo(f"freed the {POOL} slots held by run {run_id}, which is over")
    return failed


def _pool_holders(instance: dg.DagsterInstance, own_run_id: str | None = None) -> list[str]:
    info = instance.event_log_storage.get_concurrency_info(POOL)
    return [
        _describe(instance, slot.run_id, slot.step_key)
        for slot in info.claimed_slots
        if slot.run_id != own_run_id
    ]


def wait_for_pool(
    instance: dg.DagsterInstance, deadline: float, echo: Callable[[str], None]
) -> None:
    """Before a run starts: wait until the pool ``duckdb_write`` has a free slot (runs whose
    process is gone are recovered on the way), saying who holds it; past ``deadline``
    (``time.monotonic()``) raise :class:`WaitTimeout`."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    said = None
    while True:
        info = storage.get_concurrency_info(POOL)
        if info.limit is None or len(info.claimed_slots) < info.limit:
            return
        holders = _pool_holders(instance)
        if holders != said:
            echo(f"waiting for the Dagster pool {POOL}: held by {'; '.join(holders)}")
            said = holders
        if time.monotonic() >= deadline:
            raise WaitTimeout(
                f"gave up waiting for the Dagster pool {POOL}, held by {'; '.join(holders)} "
                "(runs.max_wait_minutes in the run configuration)"
            )
        time.sleep(2)
        recover_dead_runs(instance, echo)


@contextlib.contextmanager
def pool_watch(
    instance: dg.DagsterInstance | None, run_id: str, echo: Callable[[str], None]
) -> Iterator[None]:
    """While the run executes, say when a step of it waits for the pool and who holds it."""
    if instance is None or not instance.event_log_storage.supports_global_concurrency_limits:
        yield
        return
    said: list[str] = []

    def watch() -> None:
        nonlocal said
        info = instance.event_log_storage.get_concurrency_info(POOL)
        waiting = [
            p.step_key
            for p in info.pending_steps
            if p.run_id == run_id and p.assigned_timestamp is None
        ]
        holders = _pool_holders(instance, run_id) if waiting else []
        if holders and holders != said:
            echo(
                f"{', '.join(waiting)} waiting for the Dagster pool {POOL}: held by "
                + "; ".join(holders)
            )
        said = holders

    with _every(5, watch, "pool-watch"):
        yield


# the step-output files kept under <work_dir>/logs (one per run; the oldest go)
KEEP_OUTPUT_LOGS = 30


def _output_log(work_dir: Path, run_id: str) -> Path:
    """This run's step-output file, named by when it began; the oldest beyond the last
    ``KEEP_OUTPUT_LOGS`` removed."""
    folder = work_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in sorted(folder.glob("run-*.log"))[: -KEEP_OUTPUT_LOGS + 1]:
        stale.unlink(missing_ok=True)
    return folder / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{run_id[:8]}.log"


class _StepOutput(io.TextIOBase):
    """``sys.stdout`` while a run executes: what the thread executing the steps writes goes to
    ``sink``; what other threads write (the progress and pool watchers) to ``console``. Once
    retired (``retire``), everything goes to the console."""

    def __init__(self, console, sink, thread: threading.Thread) -> None:
        self._console, self._sink, self._thread = console, sink, thread

    def _target(self):
        sink, thread = self._sink, self._thread
        return sink if sink is not None and threading.current_thread() is thread else self._console

    def retire(self) -> None:
        self._sink = self._thread = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        sink = self._sink
        if sink is not None:
            sink.flush()
        self._console.flush()

    def isatty(self) -> bool:
        return self._target().isatty()

    def fileno(self) -> int:
        return self._console.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._console, "encoding", None) or "utf-8"


# Every step-output router made, kept for the life of the process. print() holds sys.stdout
# borrowed from its first write to its last (CPython 3.11): a watcher thread printing as the run
# hands the console back would go on writing through a freed object (a segmentation fault). A
# retired router holds no file, only the console.
_ROUTERS: list[_StepOutput] = []


@contextlib.contextmanager
def steps_print_to(path: Path | None) -> Iterator[None]:
    """While in the block, what this thread prints is appended to ``path`` (None: left on the
    console)."""
    if path is None:
        yield
        return
    console = sys.stdout
    with path.open("a", encoding="utf-8") as sink:
        router = _StepOutput(console, sink, threading.current_thread())
        _ROUTERS.append(router)
        sys.stdout = router
        try:
            yield
        finally:
            sys.stdout = console
            router.retire()


def backfill(
    config_path: str | Path,
    first: str,
    last: str,
    echo: Callable[[str], None] = print,
    instance: dg.DagsterInstance | None = None,
    verbose: bool = False,
) -> RunOutcome:
    """Recompute the daily mart (fct_pipeline_daily) for ``first``..``last`` (YYYY-MM-DD,
    business time zone) and what reads it, in one run: the same rows a full run gives."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    selection = dg.AssetSelection.assets("fct_pipeline_daily").downstream() - (
        dg.AssetSelection.groups("bi").downstream()
    )
    keys = sorted(selection.resolve(graph), key=lambda k: k.to_user_string())
    return run(
        config_path,
        asset_keys=keys,
        echo=echo,
        instance=instance,
        partitions=(first, last),
        verbose=verbose,
    )


def home_instance(echo: Callable[[str], None] = print) -> dg.DagsterInstance:
    """The instance in ``DAGSTER_HOME``, given the project's settings (``dagster.yaml``: the
    ``duckdb_write`` pool, the event log storage) when the folder has none yet."""
    home = Path(os.environ["DAGSTER_HOME"])
    settings = home / "dagster.yaml"
    if not settings.exists():
        home.mkdir(parents=True, exist_ok=True)
        partial = home / f".dagster.yaml.{os.getpid()}"
        shutil.copyfile(INSTANCE_SETTINGS, partial)
        partial.replace(settings)  # whole, for a process starting beside this one
        echo(f"{settings}: the project's instance settings (orchestration/dagster.yaml)")
    return dg.DagsterInstance.get()


def run(
    config_path: str | Path,
    asset_keys: Sequence[dg.AssetKey] | None = None,
    exclude_groups: Sequence[str] = (),
    echo: Callable[[str], None] = print,
    instance: dg.DagsterInstance | None = None,
    partitions: tuple[str, str] | None = None,
    full_refresh: bool = False,
    verbose: bool = False,
    asked: shortcut.Asked | None = None,
) -> RunOutcome:
    """Materialise every asset the configuration allows (or ``asset_keys``) in this process.
    ``partitions`` = (first day, last day) recomputes the daily mart for that range only;
    ``full_refresh`` rebuilds the incremental models from all history. What the steps print
    (dagster-dbt repeats every line of dbt's log) goes to a file per run under
    ``<work_dir>/logs`` (``RunOutcome.output_log``), and only ``echo``'s progress lines reach
    the console; ``verbose`` leaves the steps' output on the console instead. The instance is
    ``instance``, else the one in ``DAGSTER_HOME`` (closed at the end), else one in memory.

    A plain run (every asset the configuration allows, neither ``partitions`` nor
    ``full_refresh``) first asks whether it has anything to do (``shortcut.ask``) and ends
    there when it has not; ``asked`` is that answer when the caller asked already (the
    command line, before importing this module)."""
    if asset_keys is None and partitions is None and not full_refresh:
        if asked is None:
            asked = shortcut.ask(config_path, exclude_groups, echo)
        if asked.outcome is not None:
            return asked.outcome
    with contextlib.ExitStack() as stack:
        if instance is None and os.environ.get("DAGSTER_HOME"):
            instance = stack.enter_context(home_instance(echo))
        return _run(
            config_path,
            asset_keys,
            exclude_groups,
            echo,
            instance,
            partitions,
            full_refresh,
            verbose,
            asked.stamps if asked is not None else None,
        )


def _run(
    config_path: str | Path,
    asset_keys: Sequence[dg.AssetKey] | None,
    exclude_groups: Sequence[str],
    echo: Callable[[str], None],
    instance: dg.DagsterInstance | None,
    partitions: tuple[str, str] | None,
    full_refresh: bool,
    verbose: bool,
    stamps: dict[str, str | None] | None,
) -> RunOutcome:
    config_path = Path(config_path).resolve()
    cfg = salesops_config.load(config_path)
    os.environ["SALESOPS_CONFIG"] = str(config_path)
    cfg.warehouse.parent.mkdir(parents=True, exist_ok=True)

    from orchestration.definitions import defs
    from orchestration.defs.automation import configured_selection

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
        _keep_selection(cfg, exclude_groups, asset_keys)
    started, begun = time.monotonic(), time.time()
    deadline = started + cfg.max_wait_minutes * 60
    recovered = recover_dead_runs(instance, echo) if instance is not None else []
    spans: dict[str, tuple[float, float]] = {}
    run_id = str(uuid.uuid4())
    output_log = None if verbose else _output_log(cfg.work_dir, run_id)
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(
                warehouse_lock(cfg.warehouse, echo, max(0.0, deadline - time.monotonic()))
            )
            if instance is not None:
                wait_for_pool(instance, deadline, echo)
            if instance is None:  # what execute_in_process would make: a run kept in memory
                instance = stack.enter_context(dg.DagsterInstance.ephemeral())
            results = []
            whole = full_refresh or partitions is not None
            unchanged: list[str] = []
            tags: dict[str, str] = {}  # the stamps taken of the sources that load
            for number, keys in enumerate(_stages(asset_keys, whole)):
                if number == 0 and not whole:  # the loads (and what follows, when none)
                    keys, unchanged = _unless_unchanged(cfg, keys, run_id, echo, tags, stamps)
                    if not keys:
                        continue
                checks = None  # those of the assets run
                if number > 0:  # the loads are done: what has the rest to build?
                    if results and not results[-1].success:  # what reads a failed step does not run
                        break
                    # decided once, here: a decision to build nothing is recorded as the loads
                    # run's (this run's, if none); a plan to build goes to the next run's step
                    loads_run_id = results[-1].run_id if results else run_id
                    if results:
                        run_id = str(uuid.uuid4())
                    keys, left = _decide_build(cfg, keys, loads_run_id, run_id, echo, tags)
                    if not keys:
                        break
                    if left:
                        keys, checks = _narrowed(job, keys, left)
                    _release_memory()
                with (
                    pool_watch(instance, run_id, echo),
                    progress_watch(instance, run_id, echo, spans, started=begun),
                    steps_print_to(output_log),
                ):
                    results.append(
                        _execute(
                            job,
                            instance,
                            run_id,
                            keys,
                            config_path,
                            full_refresh,
                            partitions,
                            tags,
                            checks,
                        )
                    )
                    tags = {}  # the stamps are the loads run's, the plan the build's
            # read while the warehouse is still this run's: a run waiting for it in another
            # thread opens it to write, which DuckDB refuses while this process reads it
            last = results[-1].run_id if results else run_id
            note = build_note(cfg.warehouse, last, *(r.run_id for r in results))
    except WaitTimeout as exc:
        echo(str(exc))
        return RunOutcome(
            False, run_id, time.monotonic() - started, errors=[str(exc)], recovered_runs=recovered
        )
    outcome = RunOutcome(
        all(r.success for r in results),
        results[-1].run_id if results else run_id,
        time.monotonic() - started,
    )
    outcome.unchanged_sources = unchanged
    outcome.output_log = output_log if output_log is not None and output_log.exists() else None
    outcome.recovered_runs = recovered
    outcome.step_spans = spans
    for result in results:
        _collect(outcome, result)
    # a step skipped in a run where nothing failed lacked an input its upstream never reported
    # (a dbt model whose event was lost): the run did not do all it was asked to, so it failed
    if outcome.skipped_steps and "failed" not in outcome.steps.values():
        outcome.success = False
        outcome.errors.extend(
            f"{key}: skipped: an asset it reads was not reported by the step that builds it"
            for key in outcome.skipped_steps
        )
    outcome.build_note = note
    if outcome.failed_sources:
        outcome.success = False
        outcome.errors[:0] = [f"ingest_{s}: {e}" for s, e in outcome.failed_sources.items()]
    return outcome


def _release_memory() -> None:
    """Give the memory the loads freed back to the system before dbt starts beside this process:
    Arrow's allocator and glibc keep freed pages for reuse (loading a large chat archive left
    ~240 MB of them here), and the machine's peak is this process plus dbt's DuckDB."""
    import ctypes
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _stages(asset_keys: Sequence[dg.AssetKey], whole: bool) -> list[list[dg.AssetKey]]:
    """The Dagster runs a run is made of: the loads first, then the rest, launched only when
    the loads left something to build (``_decide_build``). A run with nothing to load, a
    full refresh and a backfill (``whole``) are one run."""
    loading = set().union(*_by_source().values())
    loads = [k for k in asset_keys if k in loading]
    rest = [k for k in asset_keys if k not in loading]
    if whole or not loads or not rest:
        return [list(asset_keys)]
    return [loads, rest]


def _by_source() -> dict[str, set[dg.AssetKey]]:
    """Source -> the asset keys of its raw tables."""
    from orchestration.defs.ingest import ingest_assets

    return {
        assets.node_def.name.removeprefix("ingest_"): set(assets.keys) for assets in ingest_assets
    }


def _keep_selection(cfg, exclude_groups: Sequence[str], keys: list[dg.AssetKey]) -> None:
    """What this plain run resolved, kept for the next one to ask with before it imports the
    definitions (``shortcut.save_selection``)."""
    from orchestration.defs.transform import dbt_models

    by_source = _by_source()
    loading = set().union(*by_source.values())
    shortcut.save_selection(
        cfg,
        exclude_groups,
        sources=[src for src, tables in by_source.items() if tables & set(keys)],
        models=[k.to_user_string() for k in keys if k in dbt_models.keys],
        others=[k.to_user_string() for k in keys if k not in loading | dbt_models.keys],
    )


def _unless_unchanged(
    cfg,
    keys: list[dg.AssetKey],
    run_id: str,
    echo: Callable[[str], None],
    tags: dict[str, str],
    stamps: dict[str, str | None] | None = None,
) -> tuple[list[dg.AssetKey], list[str]]:
    """``keys`` without the loads of sources that hold nothing new since their last load
    (``ingest.stamps.unchanged_sources``: their stamp is the one taken before it; ``stamps``,
    when given, were taken a moment before), and those sources. Left out, such a source writes
    no event at all: a run that holds its load plans an output and a check per raw table and
    reports each unchanged. The stamps of the sources that load go into ``tags`` (of run
    ``run_id``, the loads): their steps take them instead of asking the sources again."""
    from ingest.stamps import unchanged_sources
    from orchestration.defs.ingest import stamp_tags

    by_source = _by_source()
    loading = [src for src, tables in by_source.items() if tables & set(keys)]
    taken: dict[str, str] = {}
    if stamps is not None and not set(loading) <= set(stamps):
        stamps = None  # not the sources this run loads: asked again
    quiet = unchanged_sources(cfg, loading, echo, taken, stamps)
    tags.update(stamp_tags(run_id, taken))
    if quiet:
        echo(f"not loaded, nothing new since their last load: {', '.join(quiet)}")
    left = set().union(*(by_source[src] for src in quiet))
    return [k for k in keys if k not in left], quiet


def _decide_build(
    cfg,
    keys: list[dg.AssetKey],
    loads_run_id: str,
    run_id: str,
    echo: Callable[[str], None],
    tags: dict[str, str],
) -> tuple[list[dg.AssetKey], set[dg.AssetKey]]:
    """``keys`` (what follows the loads, to run as ``run_id``) as the build is decided, once,
    now (``buildplan.decide``), and the dbt models left out. Without the dbt models and their
    checks when a build of them would find nothing new since the last one (the decision is
    recorded as the loads run's): a run that holds them records a planned output for every
    model and check before it starts, and reports every model unchanged. Without the models
    nothing that changed reaches when only some are, nor their dbt tests: they stand as built,
    and a run that holds them plans and reports each. The plan goes into ``tags``: the dbt step
    takes it instead of reading every table dbt reads again (and it keeps the whole
    selection's key, so the next run compares against the whole)."""
    from orchestration.buildplan import decide
    from orchestration.defs.transform import PLAN_TAG, dbt_models

    models = [k for k in keys if k in dbt_models.keys]
    if not models:
        return keys, set()
    plan = decide(cfg, [k.to_user_string() for k in models], loads_run_id, run_id)
    if plan is None:  # a full build is due: the step decides
        return keys, set()
    if plan["skip"]:
        echo(f"dbt not launched: {plan['skip']}")
        return [k for k in keys if k not in dbt_models.keys], set()
    tags[PLAN_TAG] = run_id
    if plan.get("reached") is None:
        return keys, set()
    # the models whose configuration sheet changed are among those reached; kept all the same
    wanted = set(plan["reached"]) | set(plan["refresh"])
    left = {k for k in models if k.path[-1] not in wanted}
    echo(
        f"dbt builds the {len(plan['only'])} models reached by what changed; "
        f"{len(plan['unchanged'])} stand as built"
    )
    return [k for k in keys if k not in left], left


def _narrowed(
    job, keys: list[dg.AssetKey], left: set[dg.AssetKey]
) -> tuple[list[dg.AssetKey], set[dg.AssetCheckKey]]:
    """A run of ``keys`` whose dbt models ``left`` are left out: its assets, and the checks a
    run of both would hold but the dbt tests of the models left out. The GX suites run as
    they would: one that blocks makes what reads its model wait for it (the BI hand-off does
    not publish past it). A model left out whose blocking suite a model of the run reads would
    split the dbt step in two around that suite: it stays in the run (reported unchanged, as
    the dbt step reports it) without its dbt tests, and so do those it reads alike."""
    from orchestration.defs.transform import dbt_models

    graph = job.asset_layer.asset_graph
    checks = {check for check in graph.asset_check_keys if check.asset_key in set(keys) | left}
    checks -= {check for check in dbt_models.check_keys if check.asset_key in left}
    blocked = {check.asset_key for check in checks if graph.get(check).blocking}
    kept = set(keys)
    while back := {
        parent
        for key in kept
        if key in dbt_models.keys
        for parent in graph.get(key).parent_keys
        if parent in left and parent in blocked and parent not in kept
    }:
        kept |= back
    return [k for k in [*keys, *left] if k in kept], checks


def _execute(
    job, instance, run_id, asset_keys, config_path, full_refresh, partitions, tags=None, checks=None
):
    """Run ``asset_keys`` as run ``run_id``, with their checks or (a set) ``checks``."""
    from orchestration.defs.transform import BACKFILL_FROM_TAG, BACKFILL_TO_TAG, FULL_REFRESH_TAG

    selection: dict = {"asset_selection": list(asset_keys)}
    if checks is not None:
        job = job.get_subset(asset_selection=set(asset_keys), asset_check_selection=checks)
        selection = {}
    return job.execute_in_process(
        instance=instance,
        run_id=run_id,
        **selection,
        raise_on_error=False,
        # progress is printed from the event log (progress_watch), not by Dagster's console
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        tags={
            PROCESS_TAG: this_process(),
            "salesops/config": str(config_path),
            **(tags or {}),
            **({FULL_REFRESH_TAG: "true"} if full_refresh else {}),
            **(
                {
                    BACKFILL_FROM_TAG: partitions[0],
                    BACKFILL_TO_TAG: partitions[1],
                }
                if partitions
                else {}
            ),
        },
    )


def build_note(warehouse: Path, *run_ids: str) -> str | None:
    """What the dbt step of runs ``run_ids`` decided, as it recorded in ``ops.run_state``."""
    import duckdb

    from orchestration.buildplan import DECISION_STATE
    from salesops import runstate

    if not warehouse.exists():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:  # another run has the warehouse open by now
        return None
    try:
        decision = runstate.read(con, DECISION_STATE)
    finally:
        con.close()
    if not decision or decision.get("run_id") not in run_ids:
        return None
    return decision.get("note")


def _collect(outcome: RunOutcome, result) -> None:
    """Steps, errors and check results of a finished run into ``outcome``."""
    from orchestration.defs.ingest import LOADED_CHECK

    for event in result.get_step_success_events():
        outcome.steps[event.step_key] = "ok"
    for event in result.get_step_skipped_events():
        outcome.skipped_steps.append(event.step_key)
    for event in result.get_step_failure_events():
        outcome.steps[event.step_key] = "failed"
        err = event.step_failure_data.error
        # the innermost cause says what went wrong (the outer error is Dagster's wrapper)
        while err is not None and err.cause is not None:
            err = err.cause
        outcome.errors.append(f"{event.step_key}: {err.message.strip() if err else ''}")
    for evaluation in result.get_asset_check_evaluations():
        key = evaluation.asset_check_key.to_user_string()
        outcome.evaluated_checks.append(key)
        if not evaluation.passed and evaluation.asset_check_key.name == LOADED_CHECK:
            source = evaluation.asset_check_key.asset_key.path[0]
            error = evaluation.metadata.get("error")
            outcome.failed_sources.setdefault(source, str(error.value if error else ""))
        elif not evaluation.passed:
            if evaluation.severity == dg.AssetCheckSeverity.WARN:
                outcome.warned_checks.append(key)
            else:
                outcome.failed_checks.append(key)
