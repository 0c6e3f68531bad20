"""Publishing: the read-only BI file Evidence opens, and the static site built from it."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.resources import ROOT, SalesopsConfig, WeComRobot, dbt_project
from salesops import alerts, bi, morning, publish


def bi_facing_models() -> list[dg.AssetKey]:
    """Models published to the BI file: marts/reporting plus the marts the pages list."""
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
    regions = publish.regions(cfg.warehouse) if cfg.bi_regions else []
    for region in regions:
        scoped = publish.publish_bi(cfg.warehouse, cfg.region_bi_file(region), region=region)
        context.log.info(f"published {sum(scoped.values()):,} rows of {region} only")
    return dg.MaterializeResult(
        metadata={
            "path": str(cfg.bi_warehouse),
            "regions": ", ".join(regions) or "none",
            **{f"rows.{t}": n for t, n in counts.items()},
        }
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
    built = {"executive": str(out)}
    if cfg.bi_regions:
        for region in publish.published_regions(cfg.bi_warehouse):
            region_out = bi.build_site(
                cfg.region_bi_file(region),
                site_dir=site_dir,
                out_dir=cfg.regions_out_dir / region,
            )
            built[region] = str(region_out)
            context.log.info(f"{region} site built in {region_out}")
    return dg.MaterializeResult(metadata={f"path.{k}": v for k, v in built.items()})


@dg.asset(
    group_name="report",
    deps=[bi_site],
    kinds={"pdf"},
    description=(
        "The morning report: one A4 page (the overview's KPIs, the funnel, the day's top "
        "alerts) printed by headless Chromium, sent to the team's WeCom robot (upload_media, "
        "then a file message) after a short markdown summary linking to the site (bi.site_url)."
        " Without SALESOPS_WECOM_WEBHOOK the PDF is written and nothing is sent."
    ),
)
def morning_report(
    context: AssetExecutionContext, salesops: SalesopsConfig, wecom_robot: WeComRobot
):
    cfg = salesops.load()
    day = cfg.as_of or datetime.now(ZoneInfo(cfg.timezone)).date()
    pdf = morning.write_report(
        cfg.bi_warehouse,
        cfg.work_dir / "reports" / f"morning_report_{day}.pdf",
        day,
        site_url=cfg.bi_site_url,
        site_dir=cfg.bi_site_dir or ROOT / "bi_reports",
    )
    summary = alerts.morning_summary(cfg.bi_warehouse, site_url=cfg.bi_site_url)
    sent = not wecom_robot.missing
    if sent:
        wecom_robot.send(summary)
        wecom_robot.send_file(pdf)
        context.log.info(f"morning report {pdf.name} sent to the WeCom robot")
    else:
        context.log.info(f"morning report written to {pdf} ({wecom_robot.missing})")
    return dg.MaterializeResult(
        metadata={
            "path": str(pdf),
            "bytes": pdf.stat().st_size,
            "sent": sent,
            "summary": dg.MetadataValue.md(summary),
        }
    )


defs = dg.Definitions(assets=[warehouse_bi, bi_site, morning_report])
