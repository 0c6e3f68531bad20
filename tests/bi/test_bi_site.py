"""The BI site builds from the published file and its pages render real numbers in Chromium."""

from __future__ import annotations

import re
import shutil
import time

import duckdb
import pytest

from salesops import bi, publish
from tests.support import pages, pii
from tests.support.warehouse import query, query_file

pytestmark = pytest.mark.slow
LEAVER = "S004"  # given no figures in the latest month by the site fixture


@pytest.fixture(scope="module")
def site(demo_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("bi")
    bi_file = out / "warehouse_bi.duckdb"
    publish.publish_bi(demo_run.config.warehouse, bi_file)
    # a rep who left last month: figures in earlier months, none in the latest one
    con = duckdb.connect(str(bi_file))
    con.execute(
        f"delete from {publish.BI_SCHEMA}.rpt_process_health where rep_id = ? "
        f"and month = (select max(month) from {publish.BI_SCHEMA}.rpt_process_health)",
        [LEAVER],
    )
    con.close()
    return bi_file, bi.build_site(bi_file, out / "site")


def test_bi_file_holds_only_reporting_tables_readable_by_evidence(site):
    bi_file, _ = site
    tables = query_file(
        bi_file,
        "select table_schema, table_name from information_schema.tables",
    )
    version = query_file(
        bi_file,
        "select tags['storage_version'] from duckdb_databases() where database_name = "
        "current_database()",
    )[0]
    assert ("reporting", "rpt_lead_response") in tables
    assert all(schema == "reporting" for schema, _ in tables)
    assert version is not None and str(version[0]).startswith("v1.4")


def test_lead_response_page_shows_the_warehouse_numbers(demo_run, site):
    _, site_dir = site
    assert (site_dir / "index.html").is_file()
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    leads = con.execute("select count(*) from marts.fct_lead_response").fetchone()[0]
    worst = con.execute(
        "select r.rep_name from marts.fct_lead_response f join marts.dim_rep r using (rep_id) "
        "group by r.rep_name order by avg(case when f.responded_within_24h then 1 else 0 end) "
        "limit 1"
    ).fetchone()[0]
    con.close()
    html = pages.page_text(site_dir, "lead-response")
    assert f"{leads:,}" in html
    assert worst in html
    assert "线索响应" in html


def test_screenshot_of_each_page(site, tmp_path):
    _, site_dir = site
    for page in ("", "lead-response", "data-quality"):
        png = pages.screenshot(site_dir, tmp_path / f"{page or 'index'}.png", page=page)
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 30_000  # a rendered page, not a blank one


def test_data_quality_page_lists_findings_by_rule_and_rep(demo_run, site):
    _, site_dir = site
    top_rule, top_rep = query(
        demo_run,
        "select f.rule, r.rep_name from marts.dq_findings f join marts.dim_rep r using (rep_id) "
        "group by all order by count(*) desc limit 1",
    )[0]
    html = pages.page_text(site_dir, "data-quality")
    assert "数据质量" in html
    labels = {"backfill_burst": "集中补录", "duplicate_activity": "重复活动"}
    assert labels.get(top_rule, top_rule) in html and top_rep in html


@pytest.mark.parametrize(
    ("page", "heading", "table"),
    [
        ("funnel", "销售漏斗", "rpt_funnel_conversion"),
        ("process-health", "过程健康", "rpt_process_health"),
        ("forecast", "预测与回款", "rpt_forecast_vs_actual"),
        ("alerts", "预警", "rpt_alerts"),
        ("chat-risk", "沟通风险", "rpt_chat_risk_signals"),
    ],
)
def test_funnel_phi_and_forecast_pages_render(demo_run, site, page, heading, table):
    _, site_dir = site
    html = pages.page_text(site_dir, page)
    assert heading in html
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0
    con.close()
    # a query that failed in the browser shows Evidence's error card instead of its output
    assert "Query Error" not in html and "SQL Error" not in html


def test_forecast_page_shows_the_better_method_with_both_errors(demo_run, site):
    _, site_dir = site
    method, model_error, stage_error = query(
        demo_run,
        "select better_method, model_mean_error, stage_mean_error from marts.rpt_forecast_method",
    )[0]
    text = pages.page_text(site_dir, "forecast")
    label = {"model": "赢单概率模型", "stage": "阶段概率"}[method]
    assert f"因此本页的赢单预测采用{label}" in re.sub(r"<[^>]+>", "", text)
    assert f"{model_error:.1%}" in text and f"{stage_error:.1%}" in text


def test_chat_risk_page_shows_the_signals_with_their_responses(demo_run, site):
    _, site_dir = site
    signals, high = query(
        demo_run,
        "select count(*), count(*) filter (where risk_level = 'high') "
        "from marts.rpt_chat_risk_signals",
    )[0]
    action = query(
        demo_run,
        "select suggested_action from marts.rpt_chat_risk_signals "
        "group by all order by count(*) desc limit 1",
    )[0][0]
    text = pages.page_text(site_dir, "chat-risk")
    assert f">{signals:,}<" in text and f">{high:,}<" in text
    assert action in text and "建议应对" in text


# every page, with the charts it must draw (at least)
PAGES = {
    "": 4,
    "funnel": 3,
    "lead-response": 4,
    "leads": 3,
    "process-health": 3,
    "alerts": 1,
    "chat-risk": 1,
    "forecast": 5,
    "win-paths": 2,
    "data-quality": 2,
    "reps": 0,
    "reps/rep": 2,
}


def test_every_page_loads_without_errors_and_draws_its_charts(demo_run, site):
    """In Chromium: no console error (script errors, failed requests), no Evidence error box,
    every chart's canvas painted; one rep page for every rep, showing the rep a link names
    beside the team average (a leaver's own figures as "-")."""
    _, site_dir = site
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    rep_ids = [
        r for (r,) in con.execute("select distinct rep_id from marts.rpt_process_health").fetchall()
    ]
    rep_id, rep_name, open_deals = con.execute(
        "select r.rep_id, r.rep_name, count(o.opportunity_id) from marts.dim_rep r "
        "join marts.rpt_open_opportunities o using (rep_id) group by all order by 3 desc limit 1"
    ).fetchone()
    leaver_name = con.execute(
        "select rep_name from marts.dim_rep where rep_id = ?", [LEAVER]
    ).fetchone()[0]
    con.close()
    # one page serves every rep: nothing is built per rep
    assert [p.name for p in (site_dir / "reps").iterdir() if p.is_dir()] == ["rep"]
    assert LEAVER in rep_ids and rep_id != LEAVER
    paths = [*PAGES, f"reps/rep/?rep={LEAVER}", f"reps/rep/?rep={rep_id}"]
    reports = pages.inspect_pages(site_dir, paths)
    for report in reports:
        assert report.console_errors == [], report
        assert report.error_boxes == [], report
        assert report.blank_charts == [], report
        assert len(report.charts) >= PAGES.get(report.page.split("?")[0].strip("/"), 2), report
        assert "Error" not in report.text, report.page
    leaver_page, rep_page = reports[-2].text, reports[-1].text
    assert rep_name in rep_page and "团队平均" in rep_page and leaver_name not in rep_page
    assert rep_page.count("管理系统项目") >= open_deals
    # the leaver: no figure this month, the team's beside it
    assert leaver_name in leaver_page and rep_name not in leaver_page
    team = leaver_page.split("团队平均：", 1)[1].split("。", 1)[0]
    assert "%" in team, team


def test_every_page_builds_on_empty_data(site, tmp_path):
    """A BI file whose every table is empty: every page loads without an error and each of its
    charts and tables says 暂无数据 instead."""
    bi_file, _ = site
    empty = tmp_path / "empty.duckdb"
    shutil.copyfile(bi_file, empty)
    con = duckdb.connect(str(empty))
    tables = con.execute(
        "select table_name from duckdb_tables() where schema_name = ?", [publish.BI_SCHEMA]
    ).fetchall()
    for (table,) in tables:
        con.execute(f'delete from {publish.BI_SCHEMA}."{table}"')
    con.close()
    site_dir = bi.build_site(empty, tmp_path / "site")
    for report in pages.inspect_pages(site_dir, list(PAGES)):
        assert report.console_errors == [] and report.error_boxes == [], report
        assert "Error" not in report.text, report.page
        # one 暂无数据 per chart the page draws with data (the rep page: one for the page,
        # as there is no rep to pick)
        least = 1 if report.page == "reps/rep" else max(PAGES[report.page], 1)
        assert report.text.count("暂无数据") >= least, report.page


def test_overview_figures_equal_the_marts(demo_run, site):
    _, site_dir = site
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    open_amount = con.execute(
        "select sum(open_amount) from marts.rpt_pipeline_trend "
        "where pipeline_date = (select max(pipeline_date) from marts.rpt_pipeline_trend)"
    ).fetchone()[0]
    alerts = con.execute("select count(*) from marts.alerts").fetchone()[0]
    entered = con.execute(
        "select count(*) from marts.fct_stage_history where stage = 'lead_confirmed'"
    ).fetchone()[0]
    con.close()
    text = pages.page_text(site_dir, "")
    assert f"¥{round(float(open_amount) / 10000):,}万" in text
    assert f">{alerts}<" in text
    funnel = pages.page_text(site_dir, "funnel")
    assert f"{entered:,}" in funnel


def _site_text(site_dir) -> str:
    """Every string the built site ships: text files as they are, Parquet data decoded."""
    parts = []
    con = duckdb.connect()
    for path in site_dir.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            parts.append(repr(con.execute("select * from read_parquet(?)", [str(path)]).fetchall()))
        else:
            parts.append(path.read_bytes().decode("utf-8", errors="ignore"))
    con.close()
    return "\n".join(parts)


def test_every_region_site_holds_no_other_regions_row(demo_run, site, tmp_path):
    """Every file of every region's site (pages, scripts, prerendered query results, data) is
    scanned for the other regions and their reps; the region's own figures are there."""
    warehouse = demo_run.config.warehouse
    regions = publish.regions(warehouse)
    assert len(regions) >= 3
    con = duckdb.connect(str(warehouse), read_only=True)
    reps = con.execute("select region, rep_name from marts.dim_rep where region in ?", [regions])
    names = reps.fetchall()
    con.close()
    sites, timings = {}, []
    for region in regions:
        bi_file = tmp_path / f"warehouse_bi.{region}.duckdb"
        counts = publish.publish_bi(warehouse, bi_file, region=region)
        assert counts["rpt_lead_response"] > 0 and publish.published_regions(bi_file) == [region]
        said = []
        started = time.monotonic()
        sites[region] = bi.build_site(bi_file, tmp_path / "site" / region, progress=said.append)
        timings.append(time.monotonic() - started)
        # the pages were built once (for the executive site): a region adds its data files only
        assert any("reusing the page shell" in line for line in said), said
        # and the BI file itself holds nothing of the other regions
        con = duckdb.connect(str(bi_file), read_only=True)
        for (table,) in con.execute(
            "select table_name from information_schema.columns "
            "where table_schema = 'reporting' and column_name = 'region'"
        ).fetchall():
            found = con.execute(f"select distinct region from reporting.{table}").fetchall()
            assert {r for (r,) in found} <= {region}, table
        con.close()
    print(f"region sites built in {', '.join(f'{t:.1f}s' for t in timings)}")
    for region, site_dir in sites.items():
        text = _site_text(site_dir)
        own = [n for r, n in names if r == region]
        assert any(name in text for name in own), region  # the region's own figures are there
        others = [r for r in regions if r != region]
        leaks = [r for r in others if r in text]
        leaks += [n for r, n in names if r != region and n not in own and n in text]
        assert leaks == [], f"{region} site holds other regions' rows: {leaks[:10]}"
    # the region's pages load cleanly without the other regions (no region filter, no
    # by-region chart with one bar; org-wide tables say they have no data)
    region = regions[0]
    paths = ["", "lead-response", "leads", "forecast", "win-paths", "data-quality", "reps/rep"]
    for report in pages.inspect_pages(sites[region], paths):
        assert report.console_errors == [] and report.error_boxes == [], report
        assert report.blank_charts == [], report
        assert "各区域" not in report.text and "按区域" not in report.text, report.page
        assert region in report.text, report.page


def test_no_personal_data_reaches_a_bi_file_or_the_site(demo_run_with_wecom, tmp_path):
    """Phones, WeCom user and customer ids, e-mails: in the warehouse, in no BI file nor site."""
    warehouse = demo_run_with_wecom.config.warehouse
    userids = pii.wecom_userids(warehouse)
    # the warehouse holds every kind the scanner looks for: a clean scan below means kept out
    found = pii.scan_bi_file(warehouse, userids, schemas=("raw_crm", "raw_wecom"))
    assert {kind for _, kind, _ in found} == {"phone", "external_userid", "wecom_userid", "email"}
    bi_file = tmp_path / "warehouse_bi.duckdb"
    publish.publish_bi(warehouse, bi_file)
    new_contact = query_file(
        bi_file,
        "select count(*) from reporting.rpt_alerts where alert_type = 'new_contact_no_material'",
    )[0][0]
    assert new_contact > 0  # the alert keyed by a WeCom customer is published, pseudonymised
    assert pii.scan_bi_file(bi_file, userids) == []
    region = publish.regions(warehouse)[0]
    region_file = tmp_path / f"warehouse_bi.{region}.duckdb"
    publish.publish_bi(warehouse, region_file, region=region)
    assert pii.scan_bi_file(region_file, userids) == []
    for name, file in (("site", bi_file), ("region_site", region_file)):
        assert pii.scan_site(bi.build_site(file, tmp_path / name), userids) == [], name
