"""Asset-key rules for dlt and dbt, in one place.

A dlt resource and the dbt source that reads its table share one key, ``[<src>, <table>]``; that
is what joins ingestion to the models in the lineage graph. dbt models are keyed by their name
alone and grouped by their first folder under ``models/`` (staging, intermediate, marts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData


class SalesopsDltTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        resource = data.resource
        return spec.replace_attributes(
            key=dg.AssetKey([resource.source_name, resource.table_name or resource.name]),
            deps=[],
            group_name=f"ingest_{resource.source_name}",
            kinds={"dlt", "duckdb"},
        )


class SalesopsDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn: Iterable[str] = dbt_resource_props.get("fqn") or []
        parts = list(fqn)
        return parts[1] if len(parts) > 2 else "marts"
