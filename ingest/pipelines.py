"""The one place a dlt pipeline is made: name, dataset and destination follow the source name."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource


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


VOLUMES_DDL = """
create schema if not exists ops;
create table if not exists ops.table_volumes (
    observed_at timestamp with time zone,
    source varchar,
    table_name varchar,
    row_count bigint
)
"""


def record_volumes(warehouse: str | Path, src: str) -> dict[str, int]:
    """Append the row count of every ``raw_<src>`` table to ``ops.table_volumes`` (read by the
    day-over-day volume check, expectations/suites/source_volume.py). Call after a load, with
    the warehouse free for writing."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute(VOLUMES_DDL)
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_name not like '\_dlt%' escape '\\' "
                "order by 1",
                [f"raw_{src}"],
            ).fetchall()
        ]
        counts = {
            t: con.execute(f'select count(*) from "raw_{src}"."{t}"').fetchone()[0] for t in tables
        }
        con.executemany(
            "insert into ops.table_volumes values (current_timestamp, ?, ?, ?)",
            [(src, f"raw_{src}.{t}", n) for t, n in counts.items()],
        )
        return counts
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
