"""@dbt_assets: every dbt model is an asset, every dbt test an asset check, all of them in one
op per run: ``dbt build`` of everything but the win model and what reads it, the win model's
fit in Python on the features just built (salesops.win_model, the same function on either
engine), then ``dbt build`` of the rest. A model that fails in the first step leaves the rest
building, as one build would; the fit waits only for the features and settings.

``fct_pipeline_daily`` (one row per day x open opportunity) is recomputed for every day by a
plain run; a run tagged with a day range (``salesops backfill``, or the two ``BACKFILL_*``
tags on a run launched in the Dagster UI) recomputes only those days and what reads them.
The manifest is prepared at install (``make``) and, under ``dagster dev``, by
``prepare_if_dev``; importing this module never runs dbt.
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
from salesops import spark, win_model
from salesops.dbt import dbt_executable

dbt_project.prepare_if_dev()


def dbt_vars(as_of: date | None, timezone: str) -> dict[str, str]:
    out = {"timezone": timezone}
    if as_of is not None:
        out["as_of"] = as_of.isoformat()
    return out


# A run tagged so rebuilds the incremental models from scratch (after a keyword-sheet change).
FULL_REFRESH_TAG = "salesops/full_refresh"
# A run tagged with a day range (YYYY-MM-DD, business time zone) recomputes those days of the
# daily mart (fct_pipeline_daily) instead of all of them.
BACKFILL_FROM_TAG = "salesops/backfill_from"
BACKFILL_TO_TAG = "salesops/backfill_to"


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
    # profiles.yml reads the warehouse path and DuckDB's limits from the environment, per run.
    os.environ["SALESOPS_WAREHOUSE"] = str(cfg.warehouse)
    os.environ["SALESOPS_DUCKDB_MEMORY_LIMIT"] = cfg.duckdb_memory_limit
    os.environ["SALESOPS_DUCKDB_THREADS"] = str(cfg.duckdb_threads)
    if cfg.engine == "spark":
        # the models build on Spark (profiles.yml target spark) from the raw layer put there
        os.environ.update(spark.spark_env(cfg.spark_dir))
        tables = spark.load_raw(cfg.warehouse, cfg.spark_dir)
        context.log.info(f"{tables} raw tables registered on Spark in {cfg.spark_dir}")
        dbt = DbtCliResource(
            project_dir=dbt_project, target="spark", dbt_executable=dbt_executable()
        )
    variables = {**dbt_vars(cfg.as_of, cfg.timezone), **extra}
    # dbt unit tests check the SQL, not the data: they run in the test suite, not every run
    args = ["build", "--vars", json.dumps(variables), "--exclude-resource-type", "unit_test"]
    if context.run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    after_fit = _after_fit(json.loads(Path(dbt_project.manifest_path).read_text("utf-8")))
    fit_selected = any(key.path[-1] in after_fit["models"] for key in context.selected_asset_keys)
    steps = [["--exclude", f"{win_model.MODEL}+"]]
    if fit_selected:
        steps.append(["--exclude", " ".join(after_fit["others"])])
    errors, target = [], None
    for number, selection in enumerate(steps):
        if number == 1:
            inputs = _fit_inputs_failed(target)
            if inputs:
                context.log.warning(f"win model not fitted: {inputs} did not build")
                break
            rows = (
                spark.fit_win_model(cfg.spark_dir)
                if cfg.engine == "spark"
                else win_model.fit_duckdb(cfg.warehouse)
            )
            context.log.info(f"win model fitted: {rows} coefficient rows")
        target = _target_path(cfg.work_dir, context, variables, cfg.warehouse)
        invocation = dbt.cli(
            [*args, *selection], context=context, target_path=target, raise_on_error=False
        )
        yield from invocation.stream()
        error = invocation.get_error()
        if error is not None:
            errors.append(error)
        _save_parse(target, variables, cfg.warehouse)
    if cfg.engine == "spark":
        # checks and the BI hand-off read the warehouse file whichever engine built the models
        copied = spark.publish_marts(cfg.spark_dir, cfg.warehouse, ("staging", "marts"))
        context.log.info(f"{len(copied)} Spark tables and views copied into {cfg.warehouse}")
    if errors:
        raise errors[0]


def _after_fit(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """The models the fit feeds (the win model and what reads it, ``models``), and every other
    model, seed and snapshot by name (``others``: what the step after the fit leaves out)."""
    children = manifest["child_map"]
    seen, todo = set(), [f"model.salesops.{win_model.MODEL}"]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(children.get(node, []))
    nodes = manifest["nodes"].values()
    kinds = ("model", "seed", "snapshot")
    return {
        "models": sorted(
            n["name"] for n in nodes if n["resource_type"] == "model" and n["unique_id"] in seen
        ),
        "others": sorted(
            n["name"] for n in nodes if n["resource_type"] in kinds and n["unique_id"] not in seen
        ),
    }


def _fit_inputs_failed(target: Path | None) -> list[str]:
    """Of the fit's inputs, those the first step tried and did not build (run_results.json)."""
    names = [win_model.FEATURES[1], win_model.SETTINGS[1]]
    path = target / "run_results.json" if target else None
    if path is None or not path.is_file():  # dbt ended before it ran anything
        return names
    results = json.loads(path.read_text("utf-8"))["results"]
    inputs = {f"model.salesops.{name}" for name in names}
    return sorted(
        r["unique_id"].rsplit(".", 1)[-1]
        for r in results
        if r["unique_id"] in inputs and r["status"] != "success"
    )


def _save_parse(target: Path, variables: dict[str, str], warehouse: Path) -> None:
    parsed = target / PARTIAL_PARSE
    if parsed.is_file():
        saved = target.parent / _parse_name(variables, warehouse)
        shutil.copyfile(parsed, saved.with_suffix(".tmp"))
        saved.with_suffix(".tmp").replace(saved)


def backfill_vars(tags: dict[str, str]) -> dict[str, str]:
    first = tags.get(BACKFILL_FROM_TAG)
    if not first:
        return {}
    return {"partition_from": first, "partition_to": tags.get(BACKFILL_TO_TAG) or first}


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SalesopsDbtTranslator(),
    pool="duckdb_write",
)
def dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, salesops: SalesopsConfig
) -> Iterator[Any]:
    days = backfill_vars(context.run.tags)
    if days:
        context.log.info(
            f"recomputing fct_pipeline_daily for {days['partition_from']} .. {days['partition_to']}"
        )
    yield from _build(context, dbt, salesops, **days)


defs = dg.Definitions(assets=[dbt_models])
