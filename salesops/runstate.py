"""What a run starts from, in a few numbers, to tell whether it brings anything new.

Every table dbt reads (its sources in the manifest: the raw tables the loaders fill and the
``ops`` bookkeeping) is summed up as its row count, its newest dlt load and a hash of its
content (dlt's own columns left out: a merge that rewrites the same rows gives the same hash).
A build records these beside the dbt vars, the dbt project's files and the models it built
(``ops.run_state``); a later run whose summary matches has nothing new to build. The content
hash also says which configuration sheet changed since the last build, and so which
incremental models classified their rows by an older version of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUN_STATE_DDL = """
create schema if not exists ops;
create table if not exists ops.run_state (
    key varchar primary key,
    value varchar not null,
    updated_at timestamp with time zone not null
)
"""
# the bookkeeping columns that change with every load whatever it brought (when a load was
# tried, when a contract was checked): left out of the ops tables' content hash
VOLATILE_OPS_COLUMNS = frozenset({"attempted_at", "last_success_at", "checked_at"})
# schemas whose tables are always hashed: which configuration sheet changed must be known
HASHED = frozenset({"raw_sheets", "ops"})
# the dbt project's files whose change changes what a build computes
PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "tests")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read(con, key: str) -> dict[str, Any] | None:
    """The state saved under ``key`` (None when there is none)."""
    import duckdb

    try:
        row = con.execute("select value from ops.run_state where key = ?", [key]).fetchone()
    except duckdb.CatalogException:
        return None
    return json.loads(row[0]) if row else None


def write(con, key: str, value: dict[str, Any]) -> None:
    con.execute(RUN_STATE_DDL)
    con.execute(
        "insert or replace into ops.run_state values (?, ?, ?)",
        [key, json.dumps(value, sort_keys=True, default=str), datetime.now(UTC)],
    )


def source_tables(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(schema, table) of every dbt source but dlt's own load log."""
    out = {
        (s["schema"], s.get("identifier") or s["name"])
        for s in manifest.get("sources", {}).values()
    }
    return sorted((schema, table) for schema, table in out if not table.startswith("_dlt_"))


def fingerprints(
    con, tables: Iterable[tuple[str, str]], prior: dict[str, list] | None = None
) -> dict[str, list]:
    """``schema.table`` -> [rows, newest dlt load id, content hash] for each table that exists.
    A table whose rows and newest load are those of ``prior`` keeps its hash (not read again);
    a raw table whose row count changed has none (it changed; hashing it would say no more)."""
    prior = prior or {}
    columns: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, dtype in con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(f"{schema}.{table}", []).append((column, dtype))
    out: dict[str, list] = {}
    for schema, table in tables:
        name = f"{schema}.{table}"
        cols = columns.get(name)
        if cols is None:
            continue
        relation = f"{_quote(schema)}.{_quote(table)}"
        names = {c for c, _ in cols}
        newest = "max(_dlt_load_id)" if "_dlt_load_id" in names else "null"
        rows, load = con.execute(f"select count(*), {newest} from {relation}").fetchone()
        before = prior.get(name)
        if load is not None and before and before[:2] == [rows, load]:
            out[name] = before
            continue
        if load is not None and before and before[0] != rows and schema not in HASHED:
            # more or fewer rows than last time: changed, whatever the content; its hash is
            # read only when a later load leaves its row count as it is
            out[name] = [rows, load, None]
            continue
        content = [
            c
            for c, _ in cols
            if not c.startswith("_dlt_") and not (schema == "ops" and c in VOLATILE_OPS_COLUMNS)
        ]
        select = ", ".join(_quote(c) for c in content) or "1"
        digest = con.execute(
            f"select coalesce(sum(hash(t)::hugeint), 0)::varchar from (select {select} "
            f"from {relation}) t"
        ).fetchone()[0]
        out[name] = [rows, load, digest]
    return out


def changed_tables(before: dict[str, list], now: dict[str, list]) -> list[str]:
    """The tables whose content differs between two :func:`fingerprints` (or that one lacks):
    other rows, or rows rewritten by a later load with other content."""
    out = []
    for name in sorted(set(before) | set(now)):
        a, b = before.get(name), now.get(name)
        same_rows = a is not None and b is not None and a[0] == b[0]
        if same_rows and a[2] is not None and b[2] is not None:
            same_content = a[2] == b[2]
        else:  # a hash is unknown: the same newest load, or changed
            same_content = same_rows and a[1] is not None and a[1] == b[1]
        if not same_content:
            out.append(name)
    return out


def project_digest(project_dir: Path) -> str:
    """A hash of the dbt project's files that say what a build computes."""
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = project_dir / part
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def refreshed_models(
    manifest: dict[str, Any], changed: Iterable[str], models: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """The incremental models that re-derive their rows (an append-only history does not) and
    read, directly or through other models, one of the ``changed`` tables (``schema.table``):
    model name -> the changed tables it reads. Only ``models`` when given."""
    changed = set(changed)
    source_of = {
        uid: f"{s['schema']}.{s.get('identifier') or s['name']}"
        for uid, s in manifest.get("sources", {}).items()
    }
    nodes = manifest.get("nodes", {})
    reads: dict[str, set[str]] = {}

    def tables_read(uid: str) -> set[str]:
        if uid in source_of:
            return {source_of[uid]} & changed
        if uid not in reads:
            reads[uid] = set()
            for parent in nodes.get(uid, {}).get("depends_on", {}).get("nodes", []):
                reads[uid] |= tables_read(parent)
        return reads[uid]

    wanted = set(models) if models is not None else None
    out = {}
    for uid, node in nodes.items():
        config = node.get("config", {})
        if node.get("resource_type") != "model" or config.get("materialized") != "incremental":
            continue
        if config.get("incremental_strategy") == "append":
            continue
        if wanted is not None and node["name"] not in wanted:
            continue
        hit = tables_read(uid)
        if hit:
            out[node["name"]] = sorted(hit)
    return out
