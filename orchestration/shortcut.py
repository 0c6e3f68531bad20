"""A plain run with nothing new, told so before the pipeline's definitions are imported.

A scheduled ``salesops run`` starts in a fresh process, and importing Dagster, dagster-dbt with
dbt's adapters and the definitions takes longer (about 4 s on the benchmark's machine) than
such a run has to do. So a plain run asks first, with what imports none of them: the sources'
stamps (``ingest.stamps``) and the build a plain run would make (``orchestration.buildplan``),
for the selection the last plain run of the same configuration and code resolved (kept beside
the warehouse, ``save_selection``). When no source holds anything new and that build would be
skipped, the run ends here, recorded as a run that goes on would record it (``ops.source_loads``
per source, the decision in ``ops.run_state``) and under the same warehouse lock: no Dagster
run, as none would be launched. Otherwise the stamps just taken go to the runner
(``orchestration.runner.run``), which does not ask the sources again.

It asks only when the selection kept holds nothing but loads and dbt models (a run with the BI
hand-off goes on to it), on DuckDB (the Spark engine's raw layer is not stamped), and when no
full build of the incremental models is due. What it leaves to the next run that launches one:
marking failed a run whose process is gone (``runner.recover_dead_runs``), which matters only
to a run that waits for the slots such a run holds.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ingest import stamps
from orchestration import buildplan
from orchestration.runs import RunOutcome, WaitTimeout, warehouse_lock
from salesops import config as salesops_config
from salesops.dbt import MANIFEST

# what the selection a plain run resolves depends on besides the configuration
PACKAGES = ("orchestration", "ingest", "salesops")
DISTRIBUTIONS = ("dagster", "dagster-dbt", "dagster-dlt", "dlt")
# the selections kept per warehouse (one per configuration and set of groups left out)
KEEP_SELECTIONS = 8


@dataclass
class Asked:
    """What ``ask`` found: the run's ``outcome`` when it ended there (None: the run goes on),
    and the ``stamps`` it took of the sources (None: none taken, the runner takes them)."""

    outcome: RunOutcome | None = None
    stamps: dict[str, str | None] | None = None


def _code_state() -> list[Any]:
    """What the definitions are made from, besides the configuration: the packages' Python
    files (name, size, modification time), the dbt manifest's, and Dagster's and dlt's
    versions. None of them read: a change to any gives another selection key."""
    root = Path(__file__).resolve().parent.parent
    files = [
        [str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns]
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        for stat in [path.stat()]
    ]
    manifest = MANIFEST.stat()
    versions = [metadata.version(name) for name in DISTRIBUTIONS]
    return [files, [manifest.st_size, manifest.st_mtime_ns], versions]


def selection_key(cfg: salesops_config.Config, exclude_groups: Sequence[str]) -> str | None:
    """The key of the selection a plain run of ``cfg`` resolves, leaving ``exclude_groups``
    out (None: the dbt manifest is missing, nothing can be kept)."""
    if not MANIFEST.is_file():
        return None
    configured = sorted(src for src in salesops_config.SOURCE_NAMES if cfg.has(src))
    key = [sorted(exclude_groups), configured, cfg.engine, _code_state()]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def _selections_file(cfg: salesops_config.Config) -> Path:
    return cfg.work_dir / ".dbt" / f"selections-{cfg.warehouse.stem}.json"


def _kept(cfg: salesops_config.Config) -> dict[str, Any]:
    try:
        return json.loads(_selections_file(cfg).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_selection(
    cfg: salesops_config.Config,
    exclude_groups: Sequence[str],
    sources: Iterable[str],
    models: Iterable[str],
    others: Iterable[str],
) -> None:
    """Keep what a plain run of ``cfg`` without ``exclude_groups`` resolved: the ``sources``
    it loads, the dbt ``models`` it builds and the ``others`` (asset keys as Dagster writes
    them), for the next such run to ask with (``ask``)."""
    key = selection_key(cfg, exclude_groups)
    if key is None:
        return
    kept = _kept(cfg)
    kept.pop(key, None)
    kept[key] = {
        "sources": list(sources),
        "models": sorted(models),
        "others": sorted(others),
        "saved_at": datetime.now(UTC).isoformat(),
    }
    kept = dict(list(kept.items())[-KEEP_SELECTIONS:])
    path = _selections_file(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{uuid.uuid4().hex[:8]}.tmp")
    partial.write_text(json.dumps(kept, indent=1), encoding="utf-8")
    partial.replace(path)


def kept_selection(
    cfg: salesops_config.Config, exclude_groups: Sequence[str]
) -> dict[str, Any] | None:
    """The selection the last plain run of ``cfg`` without ``exclude_groups``, with the same
    code, resolved (None: none kept)."""
    key = selection_key(cfg, exclude_groups)
    return None if key is None else _kept(cfg).get(key)


def _plan(cfg: salesops_config.Config, models: list[str], run_id: str) -> dict[str, Any] | None:
    """The build a plain run of ``models`` would make now (None: no model selected)."""
    if not models:
        return None
    variables = buildplan.dbt_vars(cfg.as_of, cfg.timezone)
    return buildplan.plan_build(models, run_id, cfg, variables, full=False, backfill=False)


def ask(
    config_path: str | Path,
    exclude_groups: Sequence[str] = (),
    echo: Callable[[str], None] = print,
) -> Asked:
    """A plain run of ``config_path`` (without ``exclude_groups``) ended here when it has
    nothing to do; else what was asked on the way (the stamps), for the run that goes on."""
    started = time.monotonic()
    cfg = salesops_config.load(config_path)
    selection = kept_selection(cfg, exclude_groups)
    if cfg.engine != "duckdb" or selection is None or selection["others"]:
        return Asked()
    if not cfg.warehouse.exists():
        return Asked()
    run_id = str(uuid.uuid4())
    timeout = cfg.max_wait_minutes * 60
    try:
        with (
            warehouse_lock(cfg.warehouse, echo, timeout),
            ThreadPoolExecutor(1, thread_name_prefix="plan") as pool,
        ):
            # what a build would do is read while the sources are asked (the warehouse is this
            # run's: nothing writes it meanwhile), and used only when none has anything new
            planning = pool.submit(_plan, cfg, selection["models"], run_id)
            taken = stamps.take_all(cfg, selection["sources"], echo)
            quiet = stamps.unchanged(cfg.warehouse, taken)
            if len(quiet) < len(taken) or buildplan.full_build_due(cfg, datetime.now(UTC)):
                return Asked(stamps=taken)
            plan = planning.result()
            if plan is not None and not plan["skip"]:
                return Asked(stamps=taken)
            if quiet:
                stamps.not_loaded(cfg, quiet, echo)
                echo(f"not loaded, nothing new since their last load: {', '.join(quiet)}")
            if plan is not None:
                echo(f"dbt not launched: {plan['skip']}")
                buildplan.record(cfg, {"run_id": run_id, "built": False, "note": plan["skip"]})
    except WaitTimeout as exc:
        echo(str(exc))
        return Asked(RunOutcome(False, run_id, time.monotonic() - started, errors=[str(exc)]))
    outcome = RunOutcome(True, run_id, time.monotonic() - started)
    outcome.unchanged_sources = quiet
    outcome.build_note = plan["skip"] if plan is not None else None
    return Asked(outcome, taken)
