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

The sheets are read again only when a file in their folder (or the shipped defaults, or the
code that reads them) changed since their last load (a hash kept in ``ops.run_state``); else
their tables are reported as they are (materialisation metadata ``load: unchanged``).
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource, build_dlt_asset_specs

from ingest import sources
from ingest.pipelines import (
    LAKE_RUN,
    check_contract,
    check_empty,
    make_pipeline,
    record_source_load,
    record_volumes,
    source_from_config,
)
from orchestration.resources import ROOT, SalesopsConfig
from orchestration.translators import SalesopsDltTranslator
from salesops import lake, runstate

INGEST_POOL = "duckdb_write"
# the check each raw table carries: did this run's load of its source succeed
LOADED_CHECK = "loaded"
# ops.run_state key: the hash of the sheets' files at their last load
SHEETS_STATE = "sheets_files"


def _sheets_state(warehouse, digest: str | None = None) -> str | None:
    """The sheets' files hash at their last load (None: never loaded, or the tables are gone);
    with ``digest``, record it as the last load's."""
    con = duckdb.connect(str(warehouse))
    try:
        if digest is not None:
            runstate.write(con, SHEETS_STATE, {"digest": digest})
            return digest
        loaded = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw_sheets' "
            "and table_name = 'sheet_load_report'"
        ).fetchone()[0]
        state = runstate.read(con, SHEETS_STATE) if loaded else None
        return state["digest"] if state else None
    finally:
        con.close()


def _error_text(exc: BaseException) -> str:
    """What went wrong in a failed load, as the source's own code said it: the outermost error
    in the chain that dlt or Dagster did not raise (theirs wrap it with load ids and stages),
    else the innermost one."""
    chain = [exc]
    while (inner := chain[-1].__cause__ or chain[-1].__context__) is not None:
        if inner in chain:
            break
        chain.append(inner)
    ours = [e for e in chain if not type(e).__module__.startswith(("dlt.", "dagster"))]
    error = ours[0] if ours else chain[-1]
    return f"{error.__class__.__name__}: {error}".strip()


def build_ingest_assets(src: str) -> dg.AssetsDefinition:
    specs = build_dlt_asset_specs(
        dlt_source=sources.placeholder(src),
        dlt_pipeline=make_pipeline(src, ROOT / "build" / "placeholder.duckdb"),
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
        pipeline = make_pipeline(
            src, cfg.warehouse, cfg.pipelines_dir, cfg.duckdb_settings, lake=lake_dir
        )
        checks = [k for k in context.selected_asset_check_keys if k.name == LOADED_CHECK]
        done: set[dg.AssetKey] = set()
        digest = None
        try:
            if src == "sheets":
                from ingest.sheets import files_digest, load_notes

                digest = files_digest(cfg.sources[src])
                if digest == _sheets_state(cfg.warehouse):
                    context.log.info("the sheets are unchanged since their last load: not read")
                    record_source_load(cfg.warehouse, src)
                    for note in load_notes(cfg.warehouse):  # as the last load said
                        context.log.warning(note)
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
            for result in dlt.run(
                context=context,
                dlt_source=source_from_config(src, cfg.sources[src]),
                dlt_pipeline=pipeline,
                **(LAKE_RUN if lake_dir else {}),
            ):
                done.add(result.asset_key)
                yield result
            if lake_dir:  # what the ops steps read in the warehouse: the lake's tables, merged
                lake.attach_duckdb(cfg.warehouse, lake_dir, f"raw_{src}")
        except Exception as exc:  # one source failing must not stop the others' marts
            error = _error_text(exc)
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
        # a column there but blank in every landed row degrades its metric as a missing one
        for finding in check_empty(src, cfg.sources[src], cfg.warehouse):
            context.log.warning(finding.message)
        if src == "sheets":
            from ingest.sheets import load_notes

            if context.selected_asset_keys == set(context.assets_def.keys):
                _sheets_state(cfg.warehouse, digest)  # every sheet loaded from these files
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
