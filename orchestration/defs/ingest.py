"""One dlt multi-asset per source; every load goes through the ``duckdb_write`` pool.

The sources are built twice: here with placeholder settings, only to name the assets (a dlt
source does no I/O until it is iterated), and at run time from the run configuration.

A source that fails does not stop the run. dlt commits a load package with its state only when
the whole source was read, so a failure leaves the source's raw tables (and its cursors) at the
last good load; the op records the failure in ``ops.source_loads`` (published to the BI file,
where the data-quality page says since when the source is stale), reports each of the source's
tables as not refreshed (materialisation metadata ``load: failed``) so that the models still
build from the last good load, and fails the tables' ``loaded`` check (ERROR severity, not
blocking): the run ends *partial*, with the source named first in its summary.

A source whose stamp (``ingest.stamps``: file sizes and times, row counts and newest change
stamps, the answers to what an incremental load asks again; the sheets' files by content) is
the one taken before its last load, with the same configuration and code, holds nothing new: no
dlt pipeline starts, and its tables are reported as they are (materialisation metadata
``load: unchanged``). The stamp is kept in ``ops.run_state`` once a load of every table of the
source succeeded. A command-line run asks first (``ingest.stamps.unchanged_sources``) and
leaves such a source out of its loads run altogether: no step, and no planned output, check or
event per raw table. A full refresh (run tag ``salesops/full_refresh``) loads a source that
reads only what changed since its last load (the sheets: ``ingest.pipelines.rereads``)
whatever its stamp, and it reads everything.
"""

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource, build_dlt_asset_specs

from ingest import sources, stamps
from ingest.pipelines import (
    LAKE_RUN,
    append_first_loads,
    check_contract,
    check_empty,
    error_text,
    make_pipeline,
    record_source_load,
    record_volumes,
    rereads,
    settle_first_loads,
    source_from_config,
)
from orchestration.defs.transform import FULL_REFRESH_TAG
from orchestration.resources import SalesopsConfig
from orchestration.translators import SalesopsDltTranslator
from salesops import lake

INGEST_POOL = "duckdb_write"
# the check each raw table carries: did this run's load of its source succeed
LOADED_CHECK = "loaded"
# run tag: the stamp a command-line run took of the source just before it launched the loads
# (ingest.stamps), "<run id>:<stamp>" (no stamp: empty), so that its step does not ask the
# source again; a run re-executed from it (a new run id, the tags copied) takes its own
STAMP_TAG = "salesops/stamp_{src}"


def stamp_tags(run_id: str, taken: dict[str, str]) -> dict[str, str]:
    """The tags of run ``run_id`` that hand the stamps ``unchanged_sources`` took to its load
    steps."""
    return {STAMP_TAG.format(src=src): f"{run_id}:{stamp}" for src, stamp in taken.items()}


def _run_stamp(context, src: str, section: dict[str, Any]) -> str | None:
    """``src``'s stamp: the one this run was launched with (taken just before, nothing read
    since), else taken now."""
    run_id, _, tagged = context.run.tags.get(STAMP_TAG.format(src=src), "").partition(":")
    if run_id and run_id == context.run.run_id:
        return tagged or None
    return stamps.take(src, section, context.log.info)


@functools.cache
def _names_dir() -> Path:
    """A folder of this process's own for the pipelines that only name the assets, removed at
    exit. dlt writes a new pipeline's state on creation, wiping its folder first: in a folder
    shared by the processes that import the definitions at once (test workers, a code server
    and its runs) one process's wipe lost another's state file while it was being written. Nor
    may they share a folder with the pipelines that load (``<warehouse folder>/.dlt_pipelines``)."""
    folder = Path(tempfile.mkdtemp(prefix="salesops-asset-names-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def build_ingest_assets(src: str) -> dg.AssetsDefinition:
    specs = build_dlt_asset_specs(
        dlt_source=sources.placeholder(src),
        dlt_pipeline=make_pipeline(src, _names_dir() / "placeholder.duckdb"),
        dagster_dlt_translator=SalesopsDltTranslator(),
    )
    check_specs = [
        dg.AssetCheckSpec(
            LOADED_CHECK,
            asset=spec.key,
            description=(
                f"This run loaded {src}; when it failed, the table stays as of the last good "
                "load (ops.source_loads) and what reads it is stale"
            ),
        )
        for spec in specs
    ]

    @dg.multi_asset(
        specs=specs,
        check_specs=check_specs,
        name=f"ingest_{src}",
        can_subset=True,
        pool=INGEST_POOL,
    )
    def _assets(
        context: AssetExecutionContext, dlt: DagsterDltResource, salesops: SalesopsConfig
    ) -> Iterator[Any]:
        cfg = salesops.load()
        if not cfg.has(src):
            raise dg.Failure(
                f"source '{src}' is not configured in {cfg.path}: launch the job from its "
                "schedule (which selects only configured sources) or leave ingest_"
                f"{src} out of the selection "
                "(orchestration.defs.automation.configured_selection)"
            )
        # the Spark engine's raw layer is the lake: the same source, dlt's filesystem destination
        lake_dir = lake.lake_dir(cfg.spark_dir) if cfg.engine == "spark" else None
        checks = [k for k in context.selected_asset_check_keys if k.name == LOADED_CHECK]
        done: set[dg.AssetKey] = set()
        # taken before anything is read: what arrives meanwhile gives the next run another one
        # (the lake, Spark's raw layer, is not stamped: its tables are not the warehouse's)
        stamp = None if lake_dir else _run_stamp(context, src, cfg.sources[src])
        # a full refresh reads whole a source that reads only what changed since its last load
        # (the sheets): its stamp is not asked, nor what it kept of that load
        reread = context.run.tags.get(FULL_REFRESH_TAG) == "true" and rereads(src)
        try:
            if stamp is not None and not reread and stamp == stamps.last(cfg.warehouse, src):
                context.log.info(f"{src} holds nothing new since its last load: not loaded")
                stamps.not_loaded(cfg, [src], context.log.warning)
                # what reads the tables in this run needs their outputs (else Dagster skips it)
                for key in sorted(context.selected_asset_keys, key=str):
                    yield dg.MaterializeResult(
                        asset_key=key,
                        metadata={"load": "unchanged since the last load: not read again"},
                    )
                for key in checks:
                    yield dg.AssetCheckResult(
                        asset_key=key.asset_key,
                        check_name=key.name,
                        passed=True,
                        metadata={"source": src, "load": "unchanged"},
                    )
                return
            # what the source lacks against its contract: recorded in ops.source_contract; a
            # missing required column or object fails the source here, before anything loads
            for finding in check_contract(src, cfg.sources[src], cfg.warehouse):
                log = context.log.info if finding.status == "unknown" else context.log.warning
                log(finding.message)
            context.log.info(f"loading {src} into {lake_dir or cfg.warehouse} (dataset raw_{src})")
            pipeline = make_pipeline(
                src, cfg.warehouse, cfg.pipelines_dir, cfg.duckdb_settings, lake=lake_dir
            )
            source = source_from_config(src, cfg.sources[src], reread=reread)
            # a table not landed yet is appended to, not merged into (the lake only appends)
            first = [] if lake_dir else append_first_loads(src, source, cfg.warehouse)
            if first:
                context.log.info(f"first load of raw_{src}: {', '.join(first)} appended")
            for result in dlt.run(
                context=context,
                dlt_source=source,
                dlt_pipeline=pipeline,
                **(LAKE_RUN if lake_dir else {}),
            ):
                done.add(result.asset_key)
                yield result
            if first:
                settle_first_loads(src, cfg.warehouse)
            if lake_dir:  # what the ops steps read in the warehouse: the lake's tables, merged
                lake.attach_duckdb(cfg.warehouse, lake_dir, f"raw_{src}")
        except Exception as exc:  # one source failing must not stop the others' marts
            error = error_text(exc)
            status = record_source_load(cfg.warehouse, src, error)
            since = status["last_success_at"]
            context.log.error(
                f"{src} failed to load; its raw tables stay as of the last good load "
                f"({since or 'none'}): {status['error']}"
            )
            for key in sorted(context.selected_asset_keys - done, key=str):
                yield dg.MaterializeResult(
                    asset_key=key,
                    metadata={
                        "load": "failed: not refreshed, as of the last good load",
                        "last_success_at": str(since or "never"),
                        "error": status["error"],
                    },
                )
            for key in checks:
                yield dg.AssetCheckResult(
                    asset_key=key.asset_key,
                    check_name=key.name,
                    passed=False,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        "source": src,
                        "error": status["error"],
                        "last_success_at": str(since or "never"),
                    },
                )
            return
        record_source_load(cfg.warehouse, src)
        if stamp is not None and context.selected_asset_keys == set(context.assets_def.keys):
            stamps.save(cfg.warehouse, src, stamp)  # every table loaded from what it stamps
        # a column there but blank in every landed row degrades its metric as a missing one
        for finding in check_empty(src, cfg.sources[src], cfg.warehouse):
            context.log.warning(finding.message)
        if src == "sheets":
            from ingest.sheets import load_notes

            for note in load_notes(cfg.warehouse):
                context.log.warning(note)
        counts = record_volumes(cfg.warehouse, src)
        context.log.info(f"raw_{src}: {sum(counts.values()):,} rows in {len(counts)} tables")
        for key in checks:
            yield dg.AssetCheckResult(
                asset_key=key.asset_key, check_name=key.name, passed=True, metadata={"source": src}
            )

    return _assets


ingest_assets = [build_ingest_assets(src) for src in sources.NAMES]

defs = dg.Definitions(assets=ingest_assets)
