"""Empty data: a month that has hardly begun, and a region without rows of its own in a table,
build every site; the pages say 暂无数据 (and why) where a chart or table has nothing to show."""

from __future__ import annotations

import pytest

from salesops import publish
from tests.support import pages
from tests.support.warehouse import query_file

pytestmark = pytest.mark.slow
# the reason the process-health page gives for an empty latest month
MONTH_START_REASON = "最新月份尚无可计算的健康度"


def test_a_month_start_org_builds_every_site_and_the_morning_report(month_start_run):
    outcome, cfg = month_start_run.outcome, month_start_run.config
    assert outcome.success, outcome.errors
    assert {"warehouse_bi", "bi_site", "morning_report"} <= set(outcome.steps)
    regions = publish.regions(cfg.warehouse)
    assert len(regions) >= 2
    for region in regions:
        assert (cfg.regions_out_dir / region / "process-health" / "index.html").is_file()
    # the state that used to stop the build: a region without a PHI yet this month
    assert _regions_without_phi(cfg.warehouse)
    assert (cfg.work_dir / "reports" / f"morning_report_{cfg.as_of}.pdf").is_file()


def _regions_without_phi(warehouse) -> list[str]:
    regions = query_file(
        warehouse,
        "select region from marts.rpt_process_health "
        "where month = (select max(month) from marts.rpt_process_health) "
        "group by region having count(phi) = 0 order by 1",
    )
    return [r for (r,) in regions]


def test_month_start_pages_say_there_is_no_data_yet(month_start_run):
    cfg = month_start_run.config
    empty = _regions_without_phi(cfg.warehouse)
    sites = {None: cfg.bi_out_dir}
    sites |= {r: cfg.regions_out_dir / r for r in publish.regions(cfg.warehouse)}
    for region, site_dir in sites.items():
        for report in pages.inspect_pages(site_dir, ["process-health", "forecast", "reps/rep/"]):
            assert report.console_errors == [] and report.error_boxes == [], report
            assert report.blank_charts == [], report
            if report.page == "process-health" and region in empty:
                assert "暂无数据" in report.text and MONTH_START_REASON in report.text, report
