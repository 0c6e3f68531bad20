"""The morning report: one A4 page with the overview's figures, sent to the robot (stand-in
over real HTTP) after a summary that links to the site."""

from __future__ import annotations

import re

import duckdb
import pytest

from salesops import morning, publish

pytestmark = pytest.mark.slow
SITE_URL = "https://bi.example.com/"
A4 = (595.28, 841.89)  # points


def pdf_pages(data: bytes) -> tuple[int, list[tuple[float, float]]]:
    """The page count of a PDF (its page tree's /Count) and each /MediaBox's width × height."""
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", data)]
    boxes = [
        tuple(float(x) for x in box.split())
        for box in re.findall(rb"/MediaBox\s*\[\s*([-\d.\s]+?)\s*\]", data)
    ]
    assert counts and boxes, "not a PDF with a page tree"
    return max(counts), [(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes]


@pytest.fixture(scope="module")
def bi_file(demo_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("morning") / "warehouse_bi.duckdb"
    publish.publish_bi(demo_run.config.warehouse, path)
    return path


def test_the_paper_shows_the_overview_figures_of_the_marts(demo_run, bi_file):
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    open_amount = con.execute(
        "select sum(open_amount) from marts.rpt_pipeline_trend "
        "where pipeline_date = (select max(pipeline_date) from marts.rpt_pipeline_trend)"
    ).fetchone()[0]
    alerts, escalated = con.execute(
        "select count(*), count(*) filter (where severity = 'escalate') from marts.alerts"
    ).fetchone()
    entered = con.execute(
        "select count(*) from marts.fct_stage_history where stage = 'lead_confirmed'"
    ).fetchone()[0]
    worst = con.execute(
        "select message from marts.alerts where severity = 'escalate' "
        "order by idle_days desc limit 1"
    ).fetchone()
    con.close()
    figures = morning.overview_figures(bi_file)
    page = morning.render(figures, demo_run.config.as_of, SITE_URL)
    assert f"¥{round(float(open_amount) / 10000):,}万" in page
    assert f">{alerts:,}<" in page and f"已升级 {escalated:,}" in page
    assert figures["funnel"][0]["entered"] == entered and f">{entered:,}" in page
    top = figures["top_alerts"]
    assert 0 < len(top) <= morning.TOP_ALERTS
    # escalated alerts first, the longest idle first among them
    ranks = [0 if a["severity"] == "escalate" else 1 for a in top]
    assert ranks == sorted(ranks)
    if worst:
        assert top[0]["message"] == worst[0] and worst[0] in page
    assert f'href="{SITE_URL}"' in page


def test_the_morning_report_is_one_a4_page_sent_after_a_summary_linking_the_site(
    demo_run, bi_file, tmp_path, monkeypatch
):
    import dagster as dg
    import yaml

    from devkit.standins.wecom import WeComStandIn
    from orchestration.defs.bi import morning_report
    from orchestration.resources import SalesopsConfig, wecom_robot

    data = yaml.safe_load(demo_run.config_path.read_text(encoding="utf-8"))
    data["warehouse"]["bi_path"] = str(bi_file)
    data["warehouse"]["path"] = str(tmp_path / "w.duckdb")  # reports go beside it
    data["bi"] = {"out_dir": str(tmp_path / "site"), "site_url": SITE_URL}
    path = tmp_path / "salesops.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with WeComStandIn(tmp_path, webhook_keys=("robot-am",)) as wecom:
        monkeypatch.setenv(
            "SALESOPS_WECOM_WEBHOOK", f"{wecom.base_url}/cgi-bin/webhook/send?key=robot-am"
        )
        resources = {
            "salesops": SalesopsConfig(config_path=str(path)),
            "wecom_robot": wecom_robot(),
        }
        result = dg.materialize([morning_report], resources=resources)
        assert result.success
        summary, file_message = wecom.webhook_messages
    text = summary["markdown"]["content"]
    assert summary["msgtype"] == "markdown" and "销售过程晨报" in text
    con = duckdb.connect(str(bi_file), read_only=True)
    leads = con.execute("select sum(leads) from reporting.rpt_lead_response").fetchone()[0]
    con.close()
    assert f"线索 {leads:,} 条" in text
    assert f"]({SITE_URL})" in text
    assert file_message["msgtype"] == "file"
    name, pdf = wecom.webhook_media[file_message["file"]["media_id"]]
    assert name == f"morning_report_{demo_run.config.as_of}.pdf"
    assert (tmp_path / "reports" / name).read_bytes() == pdf
    assert pdf[:5] == b"%PDF-" and 20_000 < len(pdf) < 2_000_000
    pages, boxes = pdf_pages(pdf)
    assert pages == 1 and len(boxes) == 1
    assert all(abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1 for w, h in boxes), boxes
