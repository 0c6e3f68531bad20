"""Publishing: the read-only BI file Evidence opens, and the static site built from it."""

import json

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.resources import ROOT, SalesopsConfig, dbt_project
from salesops import bi, publish
from salesops.dbt import ensure_manifest


def bi_facing_models() -> list[dg.AssetKey]:
    """Models published to the BI file: marts/reporting plus the marts the pages list."""
    ensure_manifest(dbt_project.project_dir, dbt_project.profiles_dir)
    manifest = json.loads(dbt_project.manifest_path.read_text())
    keys = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        if node["fqn"][1:3] == ["marts", "reporting"] or node["name"] in publish.EXTRA_MARTS:
            keys.append(dg.AssetKey([node["name"]]))
    return sorted(keys, key=lambda k: k.to_user_string())


@dg.asset(
    group_name="bi",
    deps=bi_facing_models(),
    pool="duckdb_write",
    kinds={"duckdb"},
    description="Read-only DuckDB file (storage v1.4.0) with schema `reporting`: what BI reads.",
)
def warehouse_bi(context: AssetExecutionContext, salesops: SalesopsConfig):
    cfg = salesops.load()
    counts = publish.publish_bi(cfg.warehouse, cfg.bi_warehouse)
    context.log.info(f"published {len(counts)} tables to {cfg.bi_warehouse}")
    return dg.MaterializeResult(
        metadata={"path": str(cfg.bi_warehouse), **{f"rows.{t}": n for t, n in counts.items()}}
    )


@dg.asset(
    group_name="bi",
    deps=[warehouse_bi],
    kinds={"evidence"},
    description="The Evidence.dev site built to static HTML from the BI file.",
)
def bi_site(context: AssetExecutionContext, salesops: SalesopsConfig):
    cfg = salesops.load()
    site_dir = cfg.bi_site_dir or ROOT / "bi_reports"
    out = bi.build_site(cfg.bi_warehouse, site_dir=site_dir, out_dir=cfg.bi_out_dir)
    context.log.info(f"BI site built in {out}")
    return dg.MaterializeResult(metadata={"path": str(out)})


defs = dg.Definitions(assets=[warehouse_bi, bi_site])
