"""One @dlt_assets block per source; every load goes through the ``duckdb_write`` pool.

The sources are built twice: here with placeholder settings, only to name the assets (a dlt
source does no I/O until it is iterated), and at run time from the run configuration.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource, dlt_assets

from ingest.pipelines import make_pipeline, record_volumes, source_from_config
from orchestration.resources import ROOT, SalesopsConfig
from orchestration.translators import SalesopsDltTranslator

# Settings that let each source enumerate its resources without touching a real system.
PLACEHOLDER_SECTIONS: dict[str, dict[str, Any]] = {
    "crm": {"export_dir": str(ROOT)},
    "wecom": {
        "base_url": "http://127.0.0.1:9/cgi-bin/",
        "corp_id": "placeholder",
        "chat_archive_dir": str(ROOT),
    },
    "u8": {"url": "sqlite://"},
    "sheets": {"dir": str(ROOT)},
}


def placeholder_source(src: str):
    """The source built only to name its assets (secrets given as placeholders)."""
    if src == "wecom":
        from ingest.wecom import wecom_source

        return wecom_source(corp_secret="placeholder", **PLACEHOLDER_SECTIONS["wecom"])
    return source_from_config(src, PLACEHOLDER_SECTIONS[src])


INGEST_POOL = "duckdb_write"


def build_ingest_assets(src: str) -> dg.AssetsDefinition:
    @dlt_assets(
        dlt_source=placeholder_source(src),
        dlt_pipeline=make_pipeline(src, ROOT / "build" / "placeholder.duckdb"),
        name=f"ingest_{src}",
        dagster_dlt_translator=SalesopsDltTranslator(),
        pool=INGEST_POOL,
    )
    def _assets(
        context: AssetExecutionContext, dlt: DagsterDltResource, salesops: SalesopsConfig
    ) -> Iterator[Any]:
        cfg = salesops.load()
        if not cfg.has(src):
            raise dg.Failure(
                f"source '{src}' is not configured in {cfg.path}: launch the job from its "
                "schedule (which selects only configured sources) or leave ingest_"
                f"{src} out of the selection "
                "(orchestration.defs.automation.configured_selection)"
            )
        pipeline = make_pipeline(src, cfg.warehouse, cfg.pipelines_dir)
        context.log.info(f"loading {src} into {cfg.warehouse} (dataset raw_{src})")
        yield from dlt.run(
            context=context,
            dlt_source=source_from_config(src, cfg.sources[src]),
            dlt_pipeline=pipeline,
        )
        if src == "sheets":
            from ingest.sheets import load_notes

            for note in load_notes(cfg.warehouse):
                context.log.warning(note)
        counts = record_volumes(cfg.warehouse, src)
        context.log.info(f"raw_{src}: {sum(counts.values()):,} rows in {len(counts)} tables")

    return _assets


def available_sources() -> list[str]:
    """Sources whose extractor package is present (all four in a full install)."""
    import importlib

    names = []
    for src in PLACEHOLDER_SECTIONS:
        module = importlib.import_module(f"ingest.{src}")
        if hasattr(module, "source_from_config"):
            names.append(src)
    return names


ingest_assets = [build_ingest_assets(src) for src in available_sources()]

defs = dg.Definitions(assets=ingest_assets)
