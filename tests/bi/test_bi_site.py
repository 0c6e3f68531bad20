"""The BI site builds from the published file and its pages render real numbers in Chromium."""

from __future__ import annotations

import duckdb
import pytest

from salesops import bi, publish

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(demo_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("bi")
    bi_file = out / "warehouse_bi.duckdb"
    publish.publish_bi(demo_run.config.warehouse, bi_file)
    return bi_file, bi.build_site(bi_file, out / "site")


def test_bi_file_holds_only_reporting_tables_readable_by_evidence(site):
    bi_file, _ = site
    con = duckdb.connect(str(bi_file), read_only=True)
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables"
    ).fetchall()
    version = con.execute(
        "select tags['storage_version'] from duckdb_databases() where database_name = "
        "current_database()"
    ).fetchone()
    con.close()
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
    html = bi.page_text(site_dir, "lead-response")
    assert f"{leads:,}" in html
    assert worst in html
    assert "线索响应" in html


def test_screenshot_of_each_page(site, tmp_path):
    _, site_dir = site
    for page in ("", "lead-response", "data-quality"):
        png = bi.screenshot(site_dir, tmp_path / f"{page or 'index'}.png", page=page)
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 30_000  # a rendered page, not a blank one


def test_data_quality_page_lists_findings_by_rule_and_rep(demo_run, site):
    _, site_dir = site
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    top_rule, top_rep = con.execute(
        "select f.rule, r.rep_name from marts.dq_findings f join marts.dim_rep r using (rep_id) "
        "group by all order by count(*) desc limit 1"
    ).fetchone()
    con.close()
    html = bi.page_text(site_dir, "data-quality")
    assert "数据质量" in html
    assert top_rule in html and top_rep in html


@pytest.mark.parametrize(
    ("page", "heading", "table"),
    [
        ("funnel", "销售漏斗", "rpt_funnel_conversion"),
        ("process-health", "过程健康", "rpt_process_health"),
        ("forecast", "预测与实际", "rpt_forecast_vs_actual"),
        ("alerts", "停滞预警", "rpt_alerts"),
    ],
)
def test_funnel_phi_and_forecast_pages_render(demo_run, site, page, heading, table):
    _, site_dir = site
    html = bi.page_text(site_dir, page)
    assert heading in html
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0
    con.close()
    # a query that failed in the browser shows Evidence's error card instead of its output
    assert "Query Error" not in html and "SQL Error" not in html
