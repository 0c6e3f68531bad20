"""The one place a dlt pipeline is made: name, dataset and destination follow the source name."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource

from ingest import contracts


def make_pipeline(
    src: str,
    warehouse: str | Path,
    pipelines_dir: str | Path | None = None,
    dev_mode: bool = False,
    progress: str | None = None,
) -> dlt.Pipeline:
    """Pipeline ``raw_<src>`` loading into dataset (= DuckDB schema) ``raw_<src>``."""
    warehouse = Path(warehouse)
    return dlt.pipeline(
        pipeline_name=f"raw_{src}",
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name=f"raw_{src}",
        pipelines_dir=str(pipelines_dir or warehouse.parent / ".dlt_pipelines"),
        dev_mode=dev_mode,
        progress=progress,
    )


def source_from_config(src: str, section: dict[str, Any]) -> DltSource:
    """Build source ``src`` from its section of the run configuration (``salesops.config``)."""
    module = importlib.import_module(f"ingest.{src}")
    return module.source_from_config(section)


# sources whose missing required column fails the load (a sheet lacking one keeps its previous
# snapshot instead, and the other sheets load: ingest/sheets)
_FAILS_ON_REQUIRED = ("crm", "u8")


def contract_findings(src: str, section: dict[str, Any]) -> list[contracts.Finding]:
    """Source ``src``'s contract findings (``ingest.contracts``), read without loading."""
    module = importlib.import_module(f"ingest.{src}")
    finder = getattr(module, "contract_findings", None)
    return list(finder(section)) if finder else []


def check_contract(
    src: str, section: dict[str, Any], warehouse: str | Path | None = None
) -> list[contracts.Finding]:
    """Compare source ``src`` with its contract before it loads: the findings go to
    ``ops.source_contract`` (with ``warehouse``), and a missing required column or object
    raises ``ContractError`` naming source, object, column and the fix."""
    module = importlib.import_module(f"ingest.{src}")
    if not hasattr(module, "contract_findings"):
        return []
    findings = contract_findings(src, section)
    if warehouse is not None:
        contracts.record(warehouse, src, findings)
    if src in _FAILS_ON_REQUIRED:
        contracts.raise_for_required(findings)
    return findings


VOLUMES_DDL = """
create schema if not exists ops;
create table if not exists ops.table_volumes (
    observed_at timestamp with time zone,
    source varchar,
    table_name varchar,
    row_count bigint
)
"""


def raw_row_counts(con, src: str | None = None) -> dict[str, int]:
    """Rows per landed raw table (``raw_<src>.<table>``; every source without ``src``), leaving
    out dlt's bookkeeping tables and its merge staging datasets."""
    schema_filter = (
        "table_schema = ?"
        if src
        else "starts_with(table_schema, 'raw_') and not ends_with(table_schema, '_staging')"
    )
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where {schema_filter} and not starts_with(table_name, '_dlt') order by 1, 2",
        [f"raw_{src}"] if src else [],
    ).fetchall()
    return {
        f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
        for s, t in tables
    }


def record_volumes(warehouse: str | Path, src: str) -> dict[str, int]:
    """Append the row count of every ``raw_<src>`` table to ``ops.table_volumes`` (read by the
    day-over-day volume check, expectations/suites/source_volume.py). Call after a load, with
    the warehouse free for writing."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute(VOLUMES_DDL)
        counts = raw_row_counts(con, src)
        con.executemany(
            "insert into ops.table_volumes values (current_timestamp, ?, ?, ?)",
            [(src, table, n) for table, n in counts.items()],
        )
        return {table.split(".", 1)[1]: n for table, n in counts.items()}
    finally:
        con.close()


def run_source(
    src: str,
    section: dict[str, Any],
    warehouse: str | Path,
    pipelines_dir: str | Path | None = None,
) -> LoadInfo:
    pipeline = make_pipeline(src, warehouse, pipelines_dir)
    info = pipeline.run(source_from_config(src, section))
    record_volumes(warehouse, src)
    return info
