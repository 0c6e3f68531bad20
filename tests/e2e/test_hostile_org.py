"""A hostile org end to end: quotes, backslashes, emoji, SQL fragments, formula-looking text,
full-width digits, a 5,000-character company name and LIKE wildcards in keywords, through every
source (served by the stand-ins), the warehouse, the BI files and the site."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from devkit.demo.variants import HOSTILE_CORES, HOSTILE_NOTES, HOSTILE_REP_NAMES
from salesops import bi, publish
from tests.conftest import DemoRun, run_org
from tests.support import pages, pii

pytestmark = pytest.mark.slow


@dataclass
class HostileRun:
    run: DemoRun
    bi_file: Path
    region_files: list[Path]
    site_dir: Path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> HostileRun:
    root = tmp_path_factory.mktemp("hostile org")  # a space in every path, too
    # scale S: the smallest org whose CRM wins reach U8, so matching by name is exercised too
    run = run_org(root, seed=21, scale="S", anomaly_rate=1.0, variants=("hostile",))
    bi_file = root / "warehouse_bi.duckdb"
    publish.publish_bi(run.config.warehouse, bi_file)
    region_files = []
    for region in publish.regions(run.config.warehouse):
        region_files.append(root / f"warehouse_bi.{region}.duckdb")
        publish.publish_bi(run.config.warehouse, region_files[-1], region=region)
    site_dir = bi.build_site(bi_file, root / "site")
    return HostileRun(run, bi_file, region_files, site_dir)


def _warehouse(hostile: HostileRun) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(hostile.run.config.warehouse), read_only=True)


def test_every_step_succeeds(hostile):
    outcome = hostile.run.outcome
    assert outcome.success, outcome.errors
    assert outcome.failed_checks == []
    assert {"ingest_crm", "ingest_wecom", "ingest_u8", "ingest_sheets", "dbt_models"} <= set(
        outcome.steps
    )


def test_texts_are_stored_verbatim(hostile):
    con = _warehouse(hostile)
    rep_names = {n for (n,) in con.execute("select rep_name from marts.dim_rep").fetchall()}
    assert set(HOSTILE_REP_NAMES) <= rep_names
    for note in HOSTILE_NOTES:
        for channel in ("crm_task", "wecom_message"):
            found = con.execute(
                "select count(*) from marts.fct_activities where channel = ? and description = ?",
                [channel, note],
            ).fetchone()[0]
            assert found > 0, (channel, note)
    events = con.execute(
        "select count(*) from marts.fct_activities "
        "where channel = 'crm_event' and description in ?",
        [list(HOSTILE_NOTES)],
    ).fetchone()[0]
    assert events > 0
    # company names: the same in the CRM and U8, so each U8 customer still finds its account
    pairs = con.execute(
        "select u8.customer_name, customers.customer_name from staging.stg_u8__customers as u8 "
        "left join marts.dim_customer as customers "
        "on u8.u8_customer_code = customers.u8_customer_code "
        "where list_bool_or([strpos(u8.customer_name, core) > 0 for core in ?])",
        [list(HOSTILE_CORES)],
    ).fetchall()
    # (spelled alike up to brackets' width and legal-form words, as real systems differ)
    assert pairs and all(
        crm is not None and all(core in crm for core in HOSTILE_CORES if core in u8)
        for u8, crm in pairs
    ), pairs
    for core in HOSTILE_CORES:
        found = con.execute(
            "select count(*) from marts.dim_customer where strpos(customer_name, ?) > 0", [core]
        ).fetchone()[0]
        assert found > 0, core[:40]
    longest = con.execute("select max(length(customer_name)) from marts.dim_customer").fetchone()
    assert longest[0] > 5000
    con.close()


def test_keyword_matching_is_literal(hostile):
    """'%' and '_' keywords match text holding them, not everything (as LIKE would)."""
    con = _warehouse(hostile)
    keywords = [
        k
        for (k,) in con.execute(
            "select keyword from staging.stg_sheets__effective_actions"
        ).fetchall()
    ]
    assert {"%", "_", "100%折扣"} <= set(keywords)
    query = "select pattern from staging.stg_sheets__filler_patterns"
    fillers = {p for (p,) in con.execute(query).fetchall()}
    rows = con.execute(
        "select description, is_substantive from marts.fct_activities "
        "where activity_type not in ('WeCom文件', 'WeCom打卡')"
    ).fetchall()
    con.close()
    expected = [
        any(k in (text or "") for k in keywords) and (text or "").strip() not in fillers
        for text, _ in rows
    ]
    assert [s for _, s in rows] == expected
    assert 0 < sum(expected) < len(rows)


def test_risk_words_match_literally(hostile):
    """A '%' or '_' risk word flags the customer texts holding that character, not every text
    (as LIKE would)."""
    con = _warehouse(hostile)
    for keyword in ("%", "_"):
        excerpts = [
            e
            for (e,) in con.execute(
                "select excerpt from marts.rpt_chat_risk_signals where keyword = ?", [keyword]
            ).fetchall()
        ]
        assert excerpts and all(keyword in e for e in excerpts), keyword
    flagged, total = con.execute(
        "select count(distinct text_id) filter (where keyword in ('%', '_')), "
        "count(distinct text_id) from marts.rpt_chat_risk_signals"
    ).fetchone()
    con.close()
    assert 0 < flagged < total


def test_every_json_value_is_valid(hostile):
    con = _warehouse(hostile)
    total, invalid = con.execute(
        "select count(*), count(*) filter (where not json_valid(details)) from marts.dq_findings"
    ).fetchone()
    assert total > 0 and invalid == 0
    companies = [
        json.loads(d)["company"]
        for (d,) in con.execute(
            "select details from marts.dq_findings where rule = 'unverified_visit'"
        ).fetchall()
    ]
    con.close()
    # the evidence names the hostile companies as they are
    assert any(core in c for c in companies for core in HOSTILE_CORES)
    for bi_file in (hostile.bi_file, *hostile.region_files):
        con = duckdb.connect(str(bi_file), read_only=True)
        for table in ("dq_findings", "rpt_data_quality"):
            invalid = con.execute(
                f"select count(*) from reporting.{table} "
                "where details is not null and not json_valid(details)"
            ).fetchone()[0]
            assert invalid == 0, (bi_file.name, table)
        con.close()


def test_no_formula_and_no_personal_data_reaches_bi(hostile):
    userids = pii.wecom_userids(hostile.run.config.warehouse)
    for bi_file in (hostile.bi_file, *hostile.region_files):
        assert pii.scan_bi_file(bi_file, userids) == [], bi_file.name
        con = duckdb.connect(str(bi_file), read_only=True)
        for table, column in con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'reporting' and data_type = 'VARCHAR'"
        ).fetchall():
            live = con.execute(
                f'select count(*) from reporting."{table}" where regexp_matches("{column}", ?) '
                f'and not regexp_matches("{column}", ?)',
                [publish.FORMULA_START, publish.PLAIN_NUMBER],
            ).fetchone()[0]
            assert live == 0, (bi_file.name, table, column)
        con.close()
    con = duckdb.connect(str(hostile.bi_file), read_only=True)
    query = "select rep_name from reporting.rpt_process_health"
    names = {n for (n,) in con.execute(query).fetchall()}
    con.close()
    assert "'" + HOSTILE_REP_NAMES[0] in names  # shown as text, not run
    assert pii.scan_site(hostile.site_dir, userids) == []


def test_the_pages_build_and_load(hostile):
    reports = pages.inspect_pages(hostile.site_dir, ["", "data-quality", "alerts"])
    for report in reports:
        assert report.console_errors == [] and report.error_boxes == [], report
