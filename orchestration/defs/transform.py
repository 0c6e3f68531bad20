"""@dbt_assets: every dbt model is an asset, every dbt test an asset check."""

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


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SalesopsDbtTranslator(),
    pool="duckdb_write",
)
def dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, salesops: SalesopsConfig
) -> Iterator[Any]:
    cfg = salesops.load()
    # profiles.yml reads the warehouse path from the environment (env_var), per run.
    os.environ["SALESOPS_WAREHOUSE"] = str(cfg.warehouse)
    args = ["build", "--vars", json.dumps(dbt_vars(cfg.as_of, cfg.timezone))]
    yield from dbt.cli(args, context=context).stream()


defs = dg.Definitions(assets=[dbt_models])
