"""Real-world CRM exports (devkit.demo.variants), each run end to end on a scale-XS org: the
marts equal the truth files, or what cannot be computed says so (ops.source_contract,
'not_applicable') — never a green run with wrong figures."""

from __future__ import annotations

import csv

import pytest

from orchestration import cli
from tests.support.warehouse import first_rows, query

pytestmark = pytest.mark.slow
# each org on its own worker (pytest-xdist --dist loadgroup): the two build side by side
PICKED = pytest.mark.xdist_group("crm_variant_picked_fields")
MISSING = pytest.mark.xdist_group("crm_variant_missing_objects")


def _truth(run) -> dict[str, dict[str, str]]:
    with (run.sources / "truth" / "leads.csv").open(encoding="utf-8") as fh:
        return {r["lead_id"]: r for r in csv.DictReader(fh)}


def _variant_org(tmp_path_factory, name: str, variants: tuple[str, ...], **options):
    """A scale-XS org with every anomaly planted (seed 5), its CRM export reshaped by
    ``variants`` (devkit.demo.variants); ``options`` as conftest's run_org takes them."""
    from conftest import run_org

    return run_org(
        tmp_path_factory.mktemp(name),
        seed=5,
        scale="XS",
        anomaly_rate=1.0,
        variants=variants,
        **options,
    )


def _stamp(ts) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ") if ts else ""


@pytest.fixture(scope="module")
def picked_fields_run(tmp_path_factory):
    """Owner history with display names only, a Data Loader Task export without
    CompletedDateTime / IsClosed / IsDeleted / ..., and the ERP code in AccountNumber."""
    return _variant_org(
        tmp_path_factory,
        "picked_fields",
        ("history_names_only", "dataloader_minimal", "account_number_erp"),
        crm_section={"fields": {"erp_customer_code": "AccountNumber"}},
    )


@pytest.fixture(scope="module")
def missing_objects_run(tmp_path_factory):
    """An export without Contact, Event, Task, LeadHistory and ContentVersion, and no WeCom."""
    return _variant_org(
        tmp_path_factory, "missing_objects", ("missing_objects",), without=("wecom",)
    )


@PICKED
def test_owner_names_resolve_to_the_assignment_the_truth_has(picked_fields_run):
    run = picked_fields_run
    assert run.outcome.success, run.outcome.errors
    truth = _truth(run)
    names = query(run, "select count(*) from raw_crm.lead_history where new_value like '005%'")
    rows = query(run, "select lead_id, rep_id, assigned_at from marts.fct_lead_response")
    assert names == [(0,)]  # the history really holds names only
    assert len(rows) == len(truth)
    assigned = 0
    for lead_id, rep_id, assigned_at in rows:
        t = truth[lead_id]
        assert _stamp(assigned_at) == t["assigned_at"], lead_id
        if t["assigned_at"]:
            assert rep_id == t["rep_id"], lead_id
            assigned += 1
    assert assigned > len(rows) / 2


@PICKED
def test_picked_task_fields_fall_back_to_activity_and_created_date_and_say_so(
    picked_fields_run,
):
    """Task time from ActivityDate + CreatedDate: never earlier than the truth (a task is
    logged after it happens), the same leads touched, the bands of the truth within the
    fallback's precision; the gap is recorded with what it degrades."""
    run = picked_fields_run
    truth = _truth(run)
    rows = query(run, "select lead_id, response_hours, response_band from marts.fct_lead_response")
    contract = query(
        run,
        "select object, column_name, status, degrades from ops.source_contract "
        "where source = 'crm' and status <> 'ok' order by 2",
    )
    assert [(o, c, s) for o, c, s, _ in contract] == [
        ("Task", "CompletedDateTime", "missing_optional"),
        ("Task", "IsClosed", "missing_optional"),
    ]
    assert "ActivityDate" in contract[0][3]
    rank = {"green": 0, "yellow": 1, "red": 2}
    same_band = 0
    for lead_id, hours, band in rows:
        t = truth[lead_id]
        assert (hours is None) == (t["response_hours"] == ""), lead_id
        if hours is not None:
            assert hours >= float(t["response_hours"]) - 1e-5, lead_id
        if band in rank and t["response_band"] in rank:
            assert rank[band] >= rank[t["response_band"]], lead_id  # never better than it was
        same_band += band == t["response_band"]
    assert same_band >= 0.95 * len(rows)


@MISSING
def test_missing_objects_land_empty_and_their_metrics_say_not_applicable(
    missing_objects_run, capsys
):
    run = missing_objects_run
    assert run.outcome.success, run.outcome.errors
    contract = "select object from ops.source_contract where status = 'missing_object'"
    page = "select object_name from marts.rpt_source_contract where status = 'missing_object'"
    missing = {o for (o,) in query(run, contract)}
    published = {o for (o,) in query(run, page)}
    bands = dict(
        query(run, "select response_band, count(*) from marts.fct_lead_response group by 1")
    )
    got = first_rows(
        run.config.warehouse,
        empty="select (select count(*) from raw_crm.tasks) + (select count(*) from raw_crm.events)"
        " + (select count(*) from raw_crm.contacts)"
        " + (select count(*) from raw_crm.lead_history)"
        " + (select count(*) from raw_crm.content_versions)",
        within="select count(responded_within_24h) + count(touched_within_72h) "
        "from marts.fct_lead_response",
        red_alerts="select count(*) from marts.alerts where alert_type = 'response_red'",
        phi="select count(*), count(response_compliance), count(key_action_completion) "
        "from marts.rpt_process_health",
        evidence="select count(*) filter (where not has_evidence), "
        "count(*) filter (where has_evidence is null) from marts.fct_stage_history",
        no_evidence="select count(*) from marts.dq_findings where rule = 'stage_without_evidence'",
    )
    phi, evidence = got["phi"], got["evidence"]
    assert missing == {"Contact", "Event", "Task", "LeadHistory", "ContentVersion"}
    assert got["empty"] == (0,)
    assert published == missing  # what the data-quality page shows
    # no touch source at all: response time is not applicable, not "every lead red"
    assert set(bands) <= {"not_applicable", "unassigned"} and bands["not_applicable"] > 0
    assert got["within"] == (0,) and got["red_alerts"] == (0,)
    assert phi[0] > 0 and phi[1] == 0 and phi[2] == 0
    # no ContentVersion: evidence is unknown, never "missing"
    assert evidence[0] == 0 and evidence[1] > 0 and got["no_evidence"] == (0,)

    cli._report_contract(run.config)
    out = capsys.readouterr().out
    assert "source contracts: 5 gaps" in out
    assert "crm Task: object is missing (lands empty); degrades: CRM tasks as touches" in out


NO_AMOUNT = pytest.mark.xdist_group("crm_variant_opportunity_no_amount")


@pytest.fixture(scope="module")
def no_amount_run(tmp_path_factory):
    """An Opportunity export without Amount and Decision_Chain__c, built through the BI site."""
    return _variant_org(tmp_path_factory, "no_amount", ("opportunity_no_amount",), with_bi=True)


@NO_AMOUNT
def test_missing_optional_columns_make_their_metrics_not_applicable(no_amount_run):
    """No Amount: forecasts, their errors and the waterfall's amounts are null, never 0 (the
    deal counts stand); no decision chain: information completeness is null
    and PHI is weighed without it."""
    run = no_amount_run
    assert run.outcome.success, run.outcome.errors
    applicability = {
        m: (ok, reason)
        for m, ok, reason in query(
            run, "select metric, is_applicable, reason from marts.rpt_metric_applicability"
        )
    }
    got = first_rows(
        run.config.warehouse,
        forecast="select count(*), count(forecast_amount), count(empirical_forecast_amount), "
        "count(pct_error), count(abs_error) from marts.rpt_forecast_vs_actual",
        backtest="select count(*), count(stage_forecast), count(model_forecast), count(won_amount) "
        "from marts.rpt_forecast_backtest",
        waterfall="select count(*), count(opening_amount) + count(won_amount) "
        "+ count(closing_amount), sum(closing_deals) from marts.rpt_pipeline_waterfall",
        phi="select count(*), count(info_completeness), count(key_action_completion), count(phi)"
        " from marts.rpt_process_health",
    )
    forecast, backtest, waterfall, phi = (
        got[k] for k in ("forecast", "backtest", "waterfall", "phi")
    )
    assert applicability["forecast"] == (
        False,
        "数据源缺少 CRM（Salesforce） Opportunity.Amount",
    )
    assert applicability["pipeline_amount"][0] is False
    assert applicability["info_completeness"] == (
        False,
        "数据源缺少 CRM（Salesforce） Opportunity.Decision_Chain__c",
    )
    assert forecast[0] > 0 and forecast[1:5] == (0, 0, 0, 0)
    assert backtest[0] > 0 and backtest[1:4] == (0, 0, 0)
    assert waterfall[0] > 0 and waterfall[1] == 0 and waterfall[2] > 0
    assert phi[0] > 0 and phi[1] == 0 and phi[2] > 0 and phi[3] > 0


@NO_AMOUNT
def test_forecast_and_health_pages_say_not_applicable_not_zero(no_amount_run):
    from tests.support import pages

    site = no_amount_run.config.bi_out_dir
    reports = {r.page: r for r in pages.inspect_pages(site, ["forecast", "process-health"])}
    for report in reports.values():
        assert report.console_errors == [] and report.error_boxes == [], report
    forecast = reports["forecast"].text
    assert "赢单预测：不适用" in forecast
    assert "加权预测与经验预测：不适用" in forecast and "预测误差：不适用" in forecast
    assert "商机瀑布金额：不适用" in forecast
    assert "Opportunity.Amount" in forecast
    assert "平均月误差" not in forecast  # no method is chosen on errors computed from nothing
    health = reports["process-health"].text
    assert "信息完整：不适用" in health and "Opportunity.Decision_Chain__c" in health
    # each open deal's win probability, with the features that drive it
    top = query(
        no_amount_run,
        "select opportunity_name from marts.rpt_deal_win_probability "
        "order by win_probability desc, opportunity_name limit 1",
    )[0]
    assert "在途商机的赢单概率" in forecast and top[0] in forecast
