"""What a warehouse holds, table by table, to compare one run's result with another's."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.support.warehouse import data_columns, raw_tables

# append-only load logs (a row per sheet each time a load reads it, stamped; a row per unknown
# file each load): each sheet's (or file's) newest row, what its table holds, is compared
LOAD_LOGS = {"raw_sheets.sheet_load_report": ("loaded_at", "coalesce(table_name, file)")}


def table_digests(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Rows and an order-independent hash of every raw table and mart (dlt's load ids and row
    ids, which differ from load to load, left out)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        marts = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
        out = {}
        for schema, table in raw_tables(con) + marts:
            columns = sorted(data_columns(con, schema, table))
            log = LOAD_LOGS.get(f"{schema}.{table}")
            where = ""
            if log:
                stamp, key = log
                columns.remove(stamp)
                where = f'qualify "{stamp}" = max("{stamp}") over (partition by {key})'
            floats = {
                name
                for name, kind in con.execute(
                    "select column_name, data_type from duckdb_columns() "
                    "where schema_name = ? and table_name = ?",
                    [schema, table],
                ).fetchall()
                if kind in ("DOUBLE", "FLOAT", "REAL")
            }
            # a double summed by several threads differs in its last bits from run to run
            row = ", ".join(f'round("{c}", 9)' if c in floats else f'"{c}"' for c in columns)
            out[f"{schema}.{table}"] = con.execute(
                f"select count(*), coalesce(sum(hash({row})::hugeint), 0)::varchar "
                f'from (select * from "{schema}"."{table}" {where}) as t'
            ).fetchone()
        return out
    finally:
        con.close()


# stamped with the wall clock of the run that built them (hours since the last load, when each
# source was last tried or checked), or a row per build (metric shares)
VOLATILE = {
    "marts.rpt_source_freshness",
    "marts.rpt_source_loads",
    "marts.rpt_source_contract",
    "marts.fct_metric_shares",
}
