"""@dbt_assets: every dbt model is an asset, every dbt test an asset check.

``fct_pipeline_daily`` is partitioned by day (Asia/Shanghai): a partition recomputes that day's
rows from the stage history, a backfill recomputes its range in one run, and a run without a
partition (the daily job, ``salesops run``) recomputes every day. The other models are
unpartitioned.
"""

import json
import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.resources import SalesopsConfig, dbt_project
from orchestration.translators import SalesopsDbtTranslator
from salesops.dbt import ensure_manifest

ensure_manifest(dbt_project.project_dir, dbt_project.profiles_dir)


def dbt_vars(as_of: date | None, timezone: str) -> dict[str, str]:
    out = {"timezone": timezone}
    if as_of is not None:
        out["as_of"] = as_of.isoformat()
    return out


# A run tagged so rebuilds the incremental models from scratch (after a keyword-sheet change).
FULL_REFRESH_TAG = "salesops/full_refresh"


def _build(context, dbt: DbtCliResource, salesops: SalesopsConfig, **extra: str) -> Iterator[Any]:
    """``dbt build`` of the asset's selection against the configured warehouse and as-of day."""
    cfg = salesops.load()
    # profiles.yml reads the warehouse path from the environment (env_var), per run.
    os.environ["SALESOPS_WAREHOUSE"] = str(cfg.warehouse)
    variables = {**dbt_vars(cfg.as_of, cfg.timezone), **extra}
    args = ["build", "--vars", json.dumps(variables)]
    if context.run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    yield from dbt.cli(args, context=context).stream()


PARTITIONED = "fct_pipeline_daily"
# the first day a partition exists for; history before it is still in an unpartitioned run
PARTITIONS_START = os.environ.get("SALESOPS_PARTITIONS_START", "2025-01-01")
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START, timezone="Asia/Shanghai", end_offset=1
)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SalesopsDbtTranslator(),
    exclude=PARTITIONED,
    pool="duckdb_write",
)
def dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, salesops: SalesopsConfig
) -> Iterator[Any]:
    yield from _build(context, dbt, salesops)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SalesopsDbtTranslator(),
    select=PARTITIONED,
    name="dbt_pipeline_daily",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_write",
)
def dbt_pipeline_daily(
    context: AssetExecutionContext, dbt: DbtCliResource, salesops: SalesopsConfig
) -> Iterator[Any]:
    days = {}
    if context.has_partition_key_range:
        key_range = context.partition_key_range
        days = {"partition_from": key_range.start, "partition_to": key_range.end}
        context.log.info(f"recomputing {PARTITIONED} for {key_range.start} .. {key_range.end}")
    yield from _build(context, dbt, salesops, **days)


defs = dg.Definitions(assets=[dbt_models, dbt_pipeline_daily])
