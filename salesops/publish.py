"""Publish the BI hand-off: a read-only DuckDB file Evidence can open.

Evidence's DuckDB driver reads storage versions up to 1.4/1.5, while the warehouse is written by
DuckDB 2.x. The published file is created fresh with storage version v1.4.0 and holds schema
``reporting`` with a copy of every ``marts.rpt_*`` table (plus the marts the pages list) — the
only tables BI reads. The hours since each source's last load are counted to the time of
publishing (``AT_PUBLISH``), not to the last build. Text a spreadsheet would run as a formula is
published with a leading single quote (the warehouse keeps it verbatim). It is written to a
temporary name and moved into place, so a page build never sees a half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

BI_STORAGE_VERSION = "v1.4.0"
BI_SCHEMA = "reporting"
# Published marts the pages read besides the rpt_* tables.
EXTRA_MARTS = ("alerts", "dq_findings")
# Org-wide tables a region's site holds whole: they carry no region's rows (load metadata).
ORG_WIDE = (
    "rpt_source_freshness",
    "rpt_source_loads",
    "rpt_source_contract",
    "rpt_metric_applicability",
)
# Columns that count up to now, recomputed as the file is published: a run with nothing new
# builds no model, yet the hours since a source's last load go on (table -> column -> SQL)
_HOURS_SINCE_LOAD = "(epoch(current_timestamp) - epoch(last_loaded_at)) / 3600.0"
AT_PUBLISH = {
    "rpt_source_freshness": {
        "hours_since_load": f"cast({_HOURS_SINCE_LOAD} as double)",
        "is_stale": f"coalesce({_HOURS_SINCE_LOAD} > max_hours, true)",
    },
}
# a sales region: one with reps or managers (the director's 总部 is not one)
SALES_REGION = "region is not null and rep_role in ('rep', 'manager')"
# Text a spreadsheet would run as a formula (OWASP CSV injection): it starts with = + - @, a tab
# or a carriage return. A plain number or a lone dash ("-", "-12.5") is no formula.
FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?[0-9.,%]*$"


def formula_safe(column: str) -> str:
    """SQL: the text column with a single quote put in front of formula-looking values, so a
    table downloaded from the site (CSV, Excel) shows them as text instead of running them."""
    col = f'"{column}"'
    return (
        f"case when regexp_matches({col}, '{FORMULA_START}') "
        f"and not regexp_matches({col}, '{PLAIN_NUMBER}') "
        f"then chr(39) || {col} else {col} end"
    )


def regions(warehouse: str | Path) -> list[str]:
    """The sales regions of the org (``marts.dim_rep``), for region-scoped sites."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [
            r
            for (r,) in con.execute(
                f"select distinct region from marts.dim_rep where {SALES_REGION} order by 1"
            ).fetchall()
        ]
    finally:
        con.close()


def published_regions(bi_file: str | Path) -> list[str]:
    """The regions listed in a published BI file."""
    con = duckdb.connect(str(bi_file), read_only=True)
    try:
        query = f"select region from {BI_SCHEMA}.bi_regions order by 1"
        return [r for (r,) in con.execute(query).fetchall()]
    finally:
        con.close()


def publish_bi(
    warehouse: str | Path, bi_file: str | Path, region: str | None = None
) -> dict[str, int]:
    """Copy the BI-facing marts into a fresh v1.4.0 DuckDB file; return rows per table.

    With ``region`` the file holds that region's rows only (a regional manager's site): tables
    with a ``region`` column keep that region's rows, tables with a ``rep_id`` keep the rows of
    that region's reps, the org-wide load metadata (``ORG_WIDE``) stays whole and every other
    table is published empty (same columns: its charts say they have no data).
    """
    warehouse, bi_file = Path(warehouse), Path(bi_file)
    bi_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = bi_file.with_name(bi_file.name + ".tmp")
    for stale in (tmp, Path(str(tmp) + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        # paths are parameters: a folder named with a quote or a space is a valid path
        con.execute("attach ? as wh (read_only)", [str(warehouse)])
        con.execute(f"attach ? as bi (storage_version '{BI_STORAGE_VERSION}')", [str(tmp)])
        con.execute(f"create schema bi.{BI_SCHEMA}")
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'wh' and schema_name = 'marts' "
                "and (table_name like 'rpt\\_%' escape '\\' or table_name in ?) "
                "order by table_name",
                [list(EXTRA_MARTS)],
            ).fetchall()
        ]
        counts: dict[str, int] = {}
        for table in tables:
            where, params = "", []
            if region is not None and table not in ORG_WIDE:
                columns = {
                    c
                    for (c,) in con.execute(
                        "select column_name from duckdb_columns() where database_name = 'wh' "
                        "and schema_name = 'marts' and table_name = ?",
                        [table],
                    ).fetchall()
                }
                if "region" in columns:
                    where, params = "where region = ?", [region]
                elif "rep_id" in columns:
                    where = "where rep_id in (select rep_id from wh.marts.dim_rep where region = ?)"
                    params = [region]
                else:
                    where = "where false"
            # every text cell formula-safe: each page's data and download buttons read these
            now = AT_PUBLISH.get(table, {})
            select = ", ".join(
                f'{now[name]} as "{name}"'
                if name in now
                else f'{formula_safe(name)} as "{name}"'
                if dtype == "VARCHAR"
                else f'"{name}"'
                for name, dtype in con.execute(
                    "select column_name, data_type from duckdb_columns() where database_name = "
                    "'wh' and schema_name = 'marts' and table_name = ? order by column_index",
                    [table],
                ).fetchall()
            )
            con.execute(
                f'create table bi.{BI_SCHEMA}."{table}" as '
                f'select {select} from wh.marts."{table}" {where}',
                params,
            )
            counts[table] = con.execute(
                f'select count(*) from bi.{BI_SCHEMA}."{table}"'
            ).fetchone()[0]
        # the regions a region-scoped build makes sites for (read by the site build)
        con.execute(
            f"create table bi.{BI_SCHEMA}.bi_regions as select distinct region "
            f"from wh.marts.dim_rep where {SALES_REGION}" + (" and region = ?" if region else ""),
            [region] if region else [],
        )
        con.execute("detach bi")
    finally:
        con.close()
    os.replace(tmp, bi_file)
    return counts
