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


def run_source(
    src: str,
    section: dict[str, Any],
    warehouse: str | Path,
    pipelines_dir: str | Path | None = None,
) -> LoadInfo:
    pipeline = make_pipeline(src, warehouse, pipelines_dir)
    return pipeline.run(source_from_config(src, section))
