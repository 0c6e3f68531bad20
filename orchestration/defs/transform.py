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
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.resources import SalesopsConfig, dbt_project, dbt_resource
from orchestration.translators import SalesopsDbtTranslator
from salesops import runstate, spark, win_model

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


# ops.run_state keys: what the last build started from; what the last run decided; the plan
# a command-line run decided for its build before launching it (``decide``)
BUILD_STATE = "dbt_build"
DECISION_STATE = "last_decision"
HANDED_PLAN = "handed_plan"
# run tag: the id of the run the plan kept under HANDED_PLAN is for, so that its dbt step takes
# that plan instead of reading every table dbt reads again; a run re-executed from it (a new
# run id, the tags copied) decides for itself
PLAN_TAG = "salesops/build_plan"


def _manifest() -> dict[str, Any]:
    return json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))


def _build_key(selected_keys, cfg, variables: dict[str, str]) -> str:
    """What a build computes besides the tables it reads: vars, project files, selection, and
    the day it is as of (today in the business time zone when no ``as_of`` is configured)."""
    selected = sorted(k.to_user_string() for k in selected_keys)
    day = cfg.as_of or datetime.now(ZoneInfo(cfg.timezone)).date()
    project = runstate.project_digest(Path(dbt_project.project_dir))
    key = [variables, day.isoformat(), cfg.engine, selected, project]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _relations(manifest: dict[str, Any], names: set[str] | None = None) -> dict[str, str]:
    """Model name -> its relation in the warehouse (``schema.alias``), ephemeral ones aside."""
    return {
        node["name"]: f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and node.get("config", {}).get("materialized") != "ephemeral"
        and (names is None or node["name"] in names)
    }


# macros that read the clock when no as-of day is set (var as_of)
CLOCK_MACROS = ("as_of_end", "as_of_date")
CLOCK_SQL = re.compile(r"\b(current_timestamp|current_date|now\s*\(\s*\))", re.IGNORECASE)
# a query the build itself runs (a macro reading the source contract, say): what it reads is
# not an edge of the dbt graph
QUERY_SQL = re.compile(r"\b(run_query|load_result)\s*\(|\bcall\s+statement\s*\(")


def _unpinned_models(manifest: dict[str, Any], variables: dict[str, str]) -> set[str]:
    """Models whose rows depend on more than the tables their graph says they read: the clock
    (``current_timestamp``; the as-of macros read it only when no as-of day is set), or a query
    the build runs (``run_query``), in their own SQL or through a macro."""
    macros = manifest.get("macros", {})

    def own(uid: str) -> bool:
        if macros[uid].get("name") in CLOCK_MACROS:
            return not variables.get("as_of")
        sql = macros[uid].get("macro_sql", "")
        return bool(CLOCK_SQL.search(sql) or QUERY_SQL.search(sql))

    unpinned: dict[str, bool] = {}

    def reads_more(uid: str) -> bool:
        if uid not in macros:
            return False
        if uid not in unpinned:
            unpinned[uid] = False  # a macro calling itself back
            unpinned[uid] = own(uid) or any(
                reads_more(m) for m in macros[uid].get("depends_on", {}).get("macros", [])
            )
        return unpinned[uid]

    return {
        node["name"]
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and (
            CLOCK_SQL.search(node.get("raw_code", ""))
            or QUERY_SQL.search(node.get("raw_code", ""))
            or any(reads_more(m) for m in node.get("depends_on", {}).get("macros", []))
        )
    }


def reached_models(
    manifest: dict[str, Any], changed: set[str], models: set[str], variables: dict[str, str]
) -> set[str]:
    """The models a build must rebuild when only the tables ``changed`` (``schema.table``,
    dbt sources) changed since the last build of the same project, vars and as-of day: those
    reading one of them, directly or through other models; those in ``models`` (missing from
    the warehouse) and those reading the clock or querying the warehouse as they build
    (``_unpinned_models``), with everything that reads them."""
    by_table = {
        f"{s['schema']}.{s.get('identifier') or s['name']}": uid
        for uid, s in manifest.get("sources", {}).items()
    }
    nodes = manifest.get("nodes", {})
    by_name = {n["name"]: uid for uid, n in nodes.items() if n.get("resource_type") == "model"}
    start = [by_table[t] for t in changed if t in by_table]
    start += [by_name[m] for m in models | _unpinned_models(manifest, variables) if m in by_name]
    children = manifest.get("child_map", {})
    seen, todo = set(start), list(start)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return {
        nodes[uid]["name"] for uid in seen if nodes.get(uid, {}).get("resource_type") == "model"
    }


def _plan(
    selected_keys, run_id: str, cfg, variables: dict[str, str], full: bool, backfill: bool
) -> dict[str, Any]:
    """What a build of ``selected_keys`` must do, from what the warehouse holds now against the
    last build: ``skip`` (why nothing is built) or ``refresh`` (incremental model -> the changed
    configuration tables it reads, to rebuild from all history), ``only`` (the models to build
    when the last build was of the same project, vars, as-of day and models: those reached by
    what changed; None: every model), and the ``state`` to save."""
    manifest = _manifest()
    selected = {k.path[-1] for k in selected_keys}
    con = duckdb.connect(str(cfg.warehouse))
    try:
        before = runstate.read(con, BUILD_STATE) or {}
        tables = runstate.fingerprints(
            con, runstate.source_tables(manifest), prior=before.get("tables")
        )
        existing = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
    finally:
        con.close()
    key = _build_key(selected_keys, cfg, variables)
    state = {"key": key, "tables": tables, "run_id": run_id}
    plan: dict[str, Any] = {"skip": None, "refresh": {}, "only": None, "state": state}
    if full or backfill or not before:
        return plan
    if cfg.engine == "spark":  # the fit's Python model is DuckDB's; Spark writes ml.* itself
        selected.discard(win_model.FIT_MODEL)
    built = _relations(manifest, selected)
    changed = runstate.changed_tables(before.get("tables", {}), tables)
    missing = sorted(r for r in built.values() if r not in existing)
    if before.get("key") == key and not changed and not missing:
        plan["skip"] = (
            f"nothing new since the build of run {before.get('run_id', '?')[:8]}: no new or "
            "changed rows in the tables dbt reads, no changed sheet, the same as-of day and "
            "models; dbt and the checks are not run"
        )
        return plan
    why = [f"{len(changed)} tables changed ({', '.join(changed[:5])}{', …' * (len(changed) > 5)})"]
    if before.get("key") != key:
        why.append("the as-of day, dbt vars, project files or models changed: every model is built")
    if missing:
        why.append(f"{', '.join(missing[:5])} missing")
    plan["why"] = "; ".join(w for w in why if not w.startswith("0 tables"))
    old = before.get("tables", {})
    config = [name for name in changed if name.startswith("raw_sheets.") and name in old]
    # a source added since the last build lands whole, its records as old as they are: the
    # incremental models that read it (their windows count from event time) derive it in full
    added = [n for n in changed if not n.startswith(("ops.", "raw_sheets.")) and not old.get(n)]
    added += [n for n in changed if n in old and old[n] and not old[n][0]]
    plan["refresh"] = runstate.refreshed_models(manifest, config + added, selected)
    if before.get("key") == key and cfg.engine == "duckdb":
        # the rest read what they read at the last build, as of the same day: as they stand
        lost = {name for name, relation in built.items() if relation in missing}
        reached = reached_models(manifest, set(changed), lost, variables) & selected
        if reached & set(built) < set(built):
            plan["only"] = reached & set(built)
            plan["unchanged"] = sorted(set(built) - reached)
            # with the ephemeral models reached: a run may leave out every other model
            plan["reached"] = reached
    return plan


def _in_build_order(keys) -> list[dg.AssetKey]:
    """``keys`` (dbt models by name) in an order dbt could build them (what a model reads first)."""
    by_name = {key.path[-1]: key for key in keys}
    nodes = _manifest().get("nodes", {})
    graph = {
        node["name"]: {nodes[p]["name"] for p in node["depends_on"]["nodes"] if p in nodes}
        for node in nodes.values()
        if node.get("resource_type") in ("model", "seed", "snapshot")
    }
    order = graphlib.TopologicalSorter(graph).static_order()
    return [by_name[name] for name in order if name in by_name]


def _record(cfg, decision: dict[str, Any], state: dict[str, Any] | None = None) -> None:
    con = duckdb.connect(str(cfg.warehouse))
    try:
        runstate.write(con, DECISION_STATE, decision)
        if state is not None:
            runstate.write(con, BUILD_STATE, state)
    finally:
        con.close()


def _drop(cfg, manifest: dict[str, Any], models: set[str]) -> None:
    """Drop the tables of ``models`` so that dbt builds them from scratch (DuckDB)."""
    con = duckdb.connect(str(cfg.warehouse))
    try:
        for relation in _relations(manifest, models).values():
            schema, name = relation.split(".", 1)
            con.execute(f'drop table if exists "{schema}"."{name}"')
    finally:
        con.close()


def _full_build_state(warehouse: Path) -> Path:
    return warehouse.parent / ".dbt" / f"full_build-{warehouse.stem}.json"


def last_full_build(warehouse: Path) -> datetime | None:
    """When the models of ``warehouse`` were last built from all history (None: not known)."""
    try:
        text = _full_build_state(warehouse).read_text(encoding="utf-8")
        return datetime.fromisoformat(json.loads(text)["full_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_full_build(warehouse: Path, when: datetime) -> None:
    path = _full_build_state(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".tmp").write_text(json.dumps({"full_at": when.isoformat()}), "utf-8")
    path.with_suffix(".tmp").replace(path)


def full_build_due(cfg, now: datetime) -> bool:
    """A plain run rebuilds the incremental models from all history when the last full build
    is ``models_full_every_days`` old. A warehouse without a record (new, or copied here)
    starts the count at this run: a model it does not hold yet is built whole anyway."""
    last = last_full_build(cfg.warehouse)
    return last is not None and last <= now - timedelta(days=cfg.models_full_every_days)


def decide(cfg, selected_keys, loads_run_id: str, run_id: str) -> dict[str, Any] | None:
    """What a plain build of ``selected_keys`` (dbt models) would do now, decided once by a run
    that loads first (``orchestration.runner``), after its loads and before it launches the
    rest as run ``run_id``: None when the last full build is due (the step decides then);
    else the plan, whose ``skip`` says why nothing would be built (recorded as run
    ``loads_run_id``'s decision: the build is not launched at all, it would only report every
    model unchanged). A plan that builds is kept for run ``run_id``'s dbt step (``PLAN_TAG``),
    which takes it instead of reading every table dbt reads again; its ``reached`` models
    (None: every model) are all the run needs to hold, and the state it saves keeps the key of
    ``selected_keys``, so the next run compares against the whole selection."""
    if full_build_due(cfg, datetime.now(UTC)):
        return None
    variables = dbt_vars(cfg.as_of, cfg.timezone)
    plan = _plan(selected_keys, run_id, cfg, variables, full=False, backfill=False)
    if plan["skip"]:
        _record(cfg, {"run_id": loads_run_id, "built": False, "note": plan["skip"]})
        return plan
    handed = {
        **plan,
        "run_id": run_id,
        "loads_run_id": loads_run_id,
        "made_at": datetime.now(UTC).isoformat(),
        "only": None if plan["only"] is None else sorted(plan["only"]),
        "reached": None if plan.get("reached") is None else sorted(plan["reached"]),
    }
    con = duckdb.connect(str(cfg.warehouse))
    try:
        runstate.write(con, HANDED_PLAN, handed)
    finally:
        con.close()
    return plan


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
        plan = _plan(context.selected_asset_keys, run_id, cfg, variables, full, bool(extra))
    if plan["skip"]:
        context.log.info(plan["skip"])
        _record(cfg, {"run_id": run_id, "built": False, "note": plan["skip"]})
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
            _drop(cfg, _manifest(), set(refresh))
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
    _record(cfg, decision, None if extra else plan["state"])
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
