"""What a plain dbt build has to do, decided from what the warehouse holds against the last
build, before dbt starts: nothing (``skip``), only the models reached by what changed, or every
model; the incremental models rebuilt from all history when a sheet they read changed or the
last full build is ``runs.models_full_every_days`` old.

The dbt step (``orchestration/defs/transform.py``) asks it as it starts, and the command-line
runner (``orchestration/runner.py``, ``orchestration/shortcut.py``) before it launches the
step at all. Neither Dagster nor dbt is imported here: a run with nothing new decides so
without importing the pipeline's definitions. The states it keeps are in ``ops.run_state``
(``salesops.runstate``) and, for the last full build, beside the warehouse.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from salesops import runstate
from salesops.dbt import MANIFEST, PROJECT_DIR


def dbt_vars(as_of: date | None, timezone: str) -> dict[str, str]:
    out = {"timezone": timezone}
    if as_of is not None:
        out["as_of"] = as_of.isoformat()
    return out


# ops.run_state keys: what the last build started from; what the last run decided; the plan
# a command-line run decided for its build before launching it (``decide``)
BUILD_STATE = "dbt_build"
DECISION_STATE = "last_decision"
HANDED_PLAN = "handed_plan"


def read_manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def build_key(selected: Iterable[str], cfg, variables: dict[str, str]) -> str:
    """What a build computes besides the tables it reads: vars, project files, selection (asset
    keys as Dagster writes them), and the day it is as of (today in the business time zone when
    no ``as_of`` is configured)."""
    selected = sorted(selected)
    day = cfg.as_of or datetime.now(ZoneInfo(cfg.timezone)).date()
    project = runstate.project_digest(PROJECT_DIR)
    key = [variables, day.isoformat(), cfg.engine, selected, project]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def relations(manifest: dict[str, Any], names: set[str] | None = None) -> dict[str, str]:
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


def plan_build(
    selected_keys: Iterable[str],
    run_id: str,
    cfg,
    variables: dict[str, str],
    full: bool,
    backfill: bool,
) -> dict[str, Any]:
    """What a build of ``selected_keys`` (the dbt models' asset keys, as Dagster writes them)
    must do, from what the warehouse holds now against the last build: ``skip`` (why nothing
    is built) or ``refresh`` (incremental model -> the changed configuration tables it reads,
    to rebuild from all history), ``only`` (the models to build when the last build was of the
    same project, vars, as-of day and models: those reached by what changed; None: every
    model), and the ``state`` to save."""
    manifest = read_manifest()
    selected_keys = sorted(selected_keys)
    selected = {key.rsplit("/", 1)[-1] for key in selected_keys}
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
    key = build_key(selected_keys, cfg, variables)
    state = {"key": key, "tables": tables, "run_id": run_id}
    plan: dict[str, Any] = {"skip": None, "refresh": {}, "only": None, "state": state}
    if full or backfill or not before:
        return plan
    if cfg.engine == "spark":  # the fit's Python model is DuckDB's; Spark writes ml.* itself
        from salesops.win_model import FIT_MODEL

        selected.discard(FIT_MODEL)
    built = relations(manifest, selected)
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


def record(cfg, decision: dict[str, Any], state: dict[str, Any] | None = None) -> None:
    con = duckdb.connect(str(cfg.warehouse))
    try:
        runstate.write(con, DECISION_STATE, decision)
        if state is not None:
            runstate.write(con, BUILD_STATE, state)
    finally:
        con.close()


def drop(cfg, manifest: dict[str, Any], models: set[str]) -> None:
    """Drop the tables of ``models`` so that dbt builds them from scratch (DuckDB)."""
    con = duckdb.connect(str(cfg.warehouse))
    try:
        for relation in relations(manifest, models).values():
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


def decide(
    cfg, selected_keys: Iterable[str], loads_run_id: str, run_id: str
) -> dict[str, Any] | None:
    """What a plain build of ``selected_keys`` (dbt models) would do now, decided once by a run
    that loads first (``orchestration.runner``), after its loads and before it launches the
    rest as run ``run_id``: None when the last full build is due (the step decides then);
    else the plan, whose ``skip`` says why nothing would be built (recorded as run
    ``loads_run_id``'s decision: the build is not launched at all, it would only report every
    model unchanged). A plan that builds is kept for run ``run_id``'s dbt step (tagged
    ``transform.PLAN_TAG``), which takes it instead of reading every table dbt reads again; its
    ``reached`` models (None: every model) are all the run needs to hold, and the state it
    saves keeps the key of ``selected_keys``, so the next run compares against the whole
    selection."""
    if full_build_due(cfg, datetime.now(UTC)):
        return None
    variables = dbt_vars(cfg.as_of, cfg.timezone)
    plan = plan_build(selected_keys, run_id, cfg, variables, full=False, backfill=False)
    if plan["skip"]:
        record(cfg, {"run_id": loads_run_id, "built": False, "note": plan["skip"]})
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
