"""@dbt_assets: every dbt model is an asset, every dbt test an asset check.

``fct_pipeline_daily`` is partitioned by day (Asia/Shanghai): a partition recomputes that day's
rows from the stage history, a backfill recomputes its range in one run, and a run without a
partition (the daily job, ``salesops run``) recomputes every day. The other models are
unpartitioned.
"""

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
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


# dbt artifacts of the last invocations kept beside the warehouse (run_results.json, dbt.log)
KEEP_TARGETS = 12
PARTIAL_PARSE = "partial_parse.msgpack"


def _target_path(work_dir: Path, context, variables: dict[str, str], warehouse: Path) -> Path:
    """A fresh dbt target folder for this invocation, beside the warehouse, seeded with the
    parse dbt saved last time for the same vars and warehouse (dbt re-parses the whole project
    when either changed, ~6 s), so that only edited files are parsed again."""
    root = work_dir / ".dbt"
    op = context.op_execution_context.op.name
    target = root / f"{op}-{context.run.run_id[:8]}-{uuid.uuid4().hex[:6]}"
    target.mkdir(parents=True, exist_ok=True)
    saved = root / _parse_name(variables, warehouse)
    if saved.is_file():
        shutil.copyfile(saved, target / PARTIAL_PARSE)
    old = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for stale in old[:-KEEP_TARGETS]:
        shutil.rmtree(stale, ignore_errors=True)
    return target


def _parse_name(variables: dict[str, str], warehouse: Path) -> str:
    key = json.dumps([variables, str(warehouse)], sort_keys=True).encode()
    return f"parse-{hashlib.sha1(key).hexdigest()[:12]}.msgpack"


def _build(context, dbt: DbtCliResource, salesops: SalesopsConfig, **extra: str) -> Iterator[Any]:
    """``dbt build`` of the asset's selection against the configured warehouse and as-of day."""
    cfg = salesops.load()
    # profiles.yml reads the warehouse path from the environment (env_var), per run.
    os.environ["SALESOPS_WAREHOUSE"] = str(cfg.warehouse)
    variables = {**dbt_vars(cfg.as_of, cfg.timezone), **extra}
    # dbt unit tests check the SQL, not the data: they run in the test suite, not every run
    args = ["build", "--vars", json.dumps(variables), "--exclude-resource-type", "unit_test"]
    if context.run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    target = _target_path(cfg.work_dir, context, variables, cfg.warehouse)
    yield from dbt.cli(args, context=context, target_path=target).stream()
    parsed = target / PARTIAL_PARSE
    if parsed.is_file():
        saved = target.parent / _parse_name(variables, cfg.warehouse)
        shutil.copyfile(parsed, saved.with_suffix(".tmp"))
        saved.with_suffix(".tmp").replace(saved)


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
