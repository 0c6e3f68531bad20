"""@dbt_assets: every dbt model is an asset, every dbt test an asset check, all of them in one
op per run. On DuckDB that op is one ``dbt build``: the win model's fit runs inside it as the
dbt Python model ``win_model_fit`` (dbt-duckdb runs it in dbt's process). On Spark it is three
steps: ``dbt build`` of everything but the win model and what reads it, the fit in Python on the
features just built, then ``dbt build`` of the rest; a model that fails in the first step leaves
the rest building, as one build would, and the fit waits only for the features and settings.
Either way the fit is salesops.win_model, the same function on both engines.

``fct_pipeline_daily`` (one row per day x open opportunity) is recomputed for every day by a
plain run; a run tagged with a day range (``salesops backfill``, or the two ``BACKFILL_*``
tags on a run launched in the Dagster UI) recomputes only those days and what reads them.
The incremental models are rebuilt from all history on a full refresh and, on a plain run, when
the last full build is ``runs.models_full_every_days`` old (a week by default; the time is kept
beside the warehouse): it catches what arrives later than their look-back windows.
The manifest is prepared at install (``make``) and, under ``dagster dev``, by
``prepare_if_dev``; importing this module never runs dbt.

A run with nothing new builds nothing: when the tables dbt reads hold what they held at the
last build (``salesops.runstate``: rows, newest load, content), with the same dbt vars (the
as-of day), the same dbt project files and the same models selected, dbt does not run (the
models are reported unchanged), nor do the checks; the run says so (``ops.run_state``). When
something is new and the last build was of the same vars, as-of day, project and models, only
the models reached by what changed (their sources' descendants, the models missing from the
warehouse, those reading the clock or querying the warehouse as they build) are built and
tested; the rest stand as built and are reported unchanged. When a configuration sheet an
incremental model reads (keywords, stages, the org) changed since the last build, those models
are rebuilt from all history in the same build: their rows were classified by the old version.

The command-line runner decides this once, after its loads (``decide``): it does not launch
this op at all when nothing is new, and otherwise launches it with only the models reached,
the plan kept in ``ops.run_state`` for the run tagged ``PLAN_TAG``. The op takes that plan
instead of reading every table dbt reads again, and saves the state the plan holds: the key of
the whole selection, so that the next run, whole again, compares against it. A run launched
otherwise (the Dagster UI, a schedule, a re-execution) decides in the op, as it starts.
"""

import graphlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.buildplan import (
    HANDED_PLAN,
    dbt_vars,
    drop,
    full_build_due,
    last_full_build,
    plan_build,
    read_manifest,
    record,
    save_full_build,
)
from orchestration.resources import SalesopsConfig, dbt_project, dbt_resource
from orchestration.translators import SalesopsDbtTranslator
from salesops import runstate, spark, win_model

dbt_project.prepare_if_dev()


# A run tagged so rebuilds the incremental models from scratch (after a keyword-sheet change).
FULL_REFRESH_TAG = "salesops/full_refresh"
# A run tagged with a day range (YYYY-MM-DD, business time zone) recomputes those days of the
# daily mart (fct_pipeline_daily) instead of all of them.
BACKFILL_FROM_TAG = "salesops/backfill_from"
BACKFILL_TO_TAG = "salesops/backfill_to"


# the as-of day of a build (YYYY-MM-DD; empty: the clock), for macros/time.sql's as_of_day
AS_OF_ENV = "SALESOPS_AS_OF"

# dbt artifacts of the last invocations kept beside the warehouse (run_results.json, dbt.log)
KEEP_TARGETS = 12
PARTIAL_PARSE = "partial_parse.msgpack"


def _target_path(work_dir: Path, context, variables: dict[str, str], warehouse: Path) -> Path:
    """A fresh dbt target folder for this invocation, beside the warehouse, seeded with the
    parse dbt saved last time for the same --vars and warehouse (dbt re-parses the whole project
    when either changed, ~4-5 s at any scale; the as-of day is not among the --vars), so that
    only edited files are parsed again."""
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


# run tag: the id of the run the plan kept under HANDED_PLAN is for, so that its dbt step takes
# that plan instead of reading every table dbt reads again; a run re-executed from it (a new
# run id, the tags copied) decides for itself
PLAN_TAG = "salesops/build_plan"


def _in_build_order(keys) -> list[dg.AssetKey]:
    """``keys`` (dbt models by name) in an order dbt could build them (what a model reads first)."""
    by_name = {key.path[-1]: key for key in keys}
    nodes = read_manifest().get("nodes", {})
    graph = {
        node["name"]: {nodes[p]["name"] for p in node["depends_on"]["nodes"] if p in nodes}
        for node in nodes.values()
        if node.get("resource_type") in ("model", "seed", "snapshot")
    }
    order = graphlib.TopologicalSorter(graph).static_order()
    return [by_name[name] for name in order if name in by_name]


def _handed_plan(context, cfg) -> dict[str, Any] | None:
    """The plan this run was launched with (``decide``), when nothing can have written the
    warehouse since it was made: the command-line runner holds the warehouse's lock from its
    loads to the end of the build, and no other run of this instance (one the Dagster daemon
    launched, say) was under way or ended since. None: the step decides itself."""
    run_id = context.run.run_id
    if context.run.tags.get(PLAN_TAG) != run_id:
        return None
    con = duckdb.connect(str(cfg.warehouse))
    try:
        plan = runstate.read(con, HANDED_PLAN)
    finally:
        con.close()
    if not plan or plan.get("run_id") != run_id:
        return None
    ours = {run_id, plan.get("loads_run_id")}
    made = datetime.fromisoformat(plan["made_at"])
    instance = context.instance
    others = [
        run.run_id
        for run in [
            *instance.get_runs(filters=dg.RunsFilter(updated_after=made)),
            *instance.get_runs(
                filters=dg.RunsFilter(
                    statuses=[
                        dg.DagsterRunStatus.STARTING,
                        dg.DagsterRunStatus.STARTED,
                        dg.DagsterRunStatus.CANCELING,
                    ]
                )
            ),
        ]
        if run.run_id not in ours
    ]
    if others:
        context.log.info(
            f"run {others[0]} ran since this build was planned: deciding again from the tables"
        )
        return None
    return {**plan, "only": None if plan["only"] is None else set(plan["only"])}


def _build(context, dbt: DbtCliResource, salesops: SalesopsConfig, **extra: str) -> Iterator[Any]:
    """``dbt build`` of the asset's selection against the configured warehouse and as-of day;
    nothing when nothing is new since the last build."""
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
        dbt = dbt_resource("spark")
    variables = {**dbt_vars(cfg.as_of, cfg.timezone), **extra}
    # the as-of day goes by the environment, read when a model executes (macros/time.sql): as a
    # --vars value it would change every day and make dbt parse the whole project again
    os.environ[AS_OF_ENV] = variables.get("as_of", "")
    cli_vars = {k: v for k, v in variables.items() if k != "as_of"}
    # dbt unit tests check the SQL, not the data: they run in the test suite, not every run
    args = ["build", "--vars", json.dumps(cli_vars), "--exclude-resource-type", "unit_test"]
    full = context.run.tags.get(FULL_REFRESH_TAG) == "true"
    now = datetime.now(UTC)
    # a day-range backfill recomputes those days only, never everything
    if not full and not extra and full_build_due(cfg, now):
        context.log.info(
            "the last full build is runs.models_full_every_days old: "
            "building the incremental models from all history"
        )
        full = True
    run_id = context.run.run_id
    handed = None if full or extra else _handed_plan(context, cfg)
    if handed is not None:
        plan = handed
        context.log.info(
            "the build as planned when this run was launched (the tables dbt reads, read then): "
            f"{plan.get('why') or 'every model built'}"
        )
    else:
        selected = [key.to_user_string() for key in context.selected_asset_keys]
        plan = plan_build(selected, run_id, cfg, variables, full, bool(extra))
    if plan["skip"]:
        context.log.info(plan["skip"])
        record(cfg, {"run_id": run_id, "built": False, "note": plan["skip"]})
        # the models stand as built (what reads them, such as the BI hand-off, still runs)
        for key in _in_build_order(context.selected_asset_keys):
            yield dg.MaterializeResult(
                asset_key=key, metadata={"build": "unchanged: nothing new since the last build"}
            )
        return
    refresh = plan["refresh"]
    if refresh:
        reasons = "; ".join(f"{m} (reads {', '.join(t)})" for m, t in sorted(refresh.items()))
        context.log.info(f"configuration changed since the last build: rebuilding {reasons}")
        if cfg.engine == "spark":
            full = True  # one build: every incremental model from all history
        else:
            drop(cfg, read_manifest(), set(refresh))
    if full:
        args.append("--full-refresh")
    only = plan["only"]
    if only is not None:
        # the models nothing reads changed for stand as built, and so do their tests (a run
        # launched with the plan holds none of them: nothing to report)
        models = {key.path[-1]: key for key in context.selected_asset_keys}
        unchanged = plan["unchanged"]
        context.log.info(
            f"building the {len(only)} models reached by what changed; {len(unchanged)} "
            "read nothing that changed since the last build and stand as built"
        )
        args += ["--exclude", " ".join(unchanged)]
        for key in _in_build_order(models[name] for name in unchanged if name in models):
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={"build": "unchanged: nothing it reads changed since the last build"},
            )
    steps: list[list[str]] = [[]]  # DuckDB: one build, the fit a Python model within it
    if cfg.engine == "spark":
        after_fit = _after_fit(json.loads(Path(dbt_project.manifest_path).read_text("utf-8")))
        selected = context.selected_asset_keys
        steps = [["--exclude", f"{win_model.MODEL}+"]]
        if any(key.path[-1] in after_fit["models"] for key in selected):
            steps.append(["--exclude", " ".join(after_fit["others"])])
    errors, target = [], None
    for number, selection in enumerate(steps):
        if number == 1:
            inputs = _fit_inputs_failed(target)
            if inputs:
                context.log.warning(f"win model not fitted: {inputs} did not build")
                break
            rows = spark.fit_win_model(cfg.spark_dir, reuse=not full)
            context.log.info(f"win model fitted: {rows} coefficient rows")
        target = _target_path(cfg.work_dir, context, cli_vars, cfg.warehouse)
        invocation = dbt.cli(
            [*args, *selection], context=context, target_path=target, raise_on_error=False
        )
        yield from invocation.stream()
        error = invocation.get_error()
        if error is not None:
            errors.append(error)
        _save_parse(target, cli_vars, cfg.warehouse)
    if cfg.engine == "spark":
        # checks and the BI hand-off read the warehouse file whichever engine built the models
        copied = spark.publish_marts(cfg.spark_dir, cfg.warehouse, ("staging", "marts"))
        context.log.info(f"{len(copied)} Spark tables and views copied into {cfg.warehouse}")
    if errors:
        raise errors[0]
    note = "built" + (f" {len(only)} models reached by what changed" if only is not None else "")
    note += f" ({plan['why']})" if plan.get("why") else ""
    if refresh:
        note += f"; rebuilt from all history after a sheet they read changed: {', '.join(refresh)}"
    decision = {"run_id": run_id, "built": True, "refreshed": sorted(refresh), "note": note}
    # planned when the run was launched (the tables read once), or by this step
    decision["planned"] = "at launch" if handed is not None else "by the build"
    record(cfg, decision, None if extra else plan["state"])
    if full or last_full_build(cfg.warehouse) is None:
        save_full_build(cfg.warehouse, now)


def _after_fit(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """On Spark: the models the fit feeds (the win model and what reads it, ``models``), and
    every other model, seed and snapshot by name (``others``: what the step after the fit leaves
    out; the fit's DuckDB-only Python model is not built on Spark)."""
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
            n["name"]
            for n in nodes
            if n["resource_type"] in kinds
            and n["unique_id"] not in seen
            and n["name"] != win_model.FIT_MODEL
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
