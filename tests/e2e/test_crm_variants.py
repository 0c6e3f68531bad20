"""Real-world CRM exports (devkit.demo.variants), each run end to end on a scale-XS org: the
marts equal the truth files, or what cannot be computed says so (ops.source_contract,
'not_applicable') — never a green run with wrong figures."""

from __future__ import annotations

import csv

import duckdb
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


def _win_model_features(run) -> tuple[dict[str, int], set[str], int, set[str]]:
    """Non-null values per win-model feature, the features with a coefficient, the months
    trained, and every driver named on the open deals."""
    with duckdb.connect(str(run.config.warehouse), read_only=True) as con:
        values = dict(
            zip(
                ("activities_recent", "has_trial", "has_decision_chain"),
                con.execute(
                    "select count(activities_recent), count(has_trial), count(has_decision_chain)"
                    " from marts.fct_win_features"
                ).fetchone(),
                strict=True,
            )
        )
        features = {
            r[0]
            for r in con.execute(
                "select distinct feature from marts.fct_win_model_coefficients"
            ).fetchall()
        }
        trained = con.execute(
            "select count(distinct model_month) from marts.fct_win_model_coefficients "
            "where is_trained"
        ).fetchone()[0]
        drivers = {
            d
            for row in con.execute(
                "select top_driver, second_driver from marts.rpt_deal_win_probability"
            ).fetchall()
            for d in row
            if d
        }
    return values, features, trained, drivers


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
        "where source = 'crm' and status = 'missing_optional' order by 2",
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
        blank="select count(*) from ops.source_contract where status = 'empty'",
    )
    phi, evidence, blank = got["phi"], got["evidence"], got["blank"][0]
    assert missing == {"Contact", "Event", "Task", "LeadHistory", "ContentVersion"}
    assert got["empty"] == (0,)
    assert published == missing  # what the data-quality page shows
    # no touch source at all: response time is not applicable, not "every lead red"
    assert set(bands) <= {"not_applicable", "unassigned"} and bands["not_applicable"] > 0
    assert got["within"] == (0,) and got["red_alerts"] == (0,)
    assert phi[0] > 0 and phi[1] == 0 and phi[2] == 0
    # no ContentVersion: evidence is unknown, never "missing"
    assert evidence[0] == 0 and evidence[1] > 0 and got["no_evidence"] == (0,)

    # no CRM activity object: the win model leaves its activity and trial features out
    values, features, _, drivers = _win_model_features(run)
    assert values["activities_recent"] == 0 and values["has_trial"] == 0
    assert values["has_decision_chain"] > 0 and "has_decision_chain" in features
    assert "activities_recent" not in features and "has_trial" not in features
    assert not any(d.startswith(("近14天活动", "客户试用")) for d in drivers)

    cli._report_contract(run.config)
    out = capsys.readouterr().out
    assert f"source contracts: {5 + blank} gaps" in out  # and the columns blank in every row
    assert "crm Task: object is missing (lands empty); degrades: CRM tasks as touches" in out


NO_AMOUNT = pytest.mark.xdist_group("crm_variant_opportunity_no_amount")


@pytest.fixture(scope="module")
def no_amount_run(tmp_path_factory):
    """An Opportunity export without Amount and Decision_Chain__c and with Objection__c blank in
    every row, a Lead export without IsConverted, and a WeCom whose check-ins lack their place,
    whose behaviour data lacks reply_percentage and whose contacts lack their saved mobiles,
    built through the BI site."""
    return _variant_org(
        tmp_path_factory,
        "no_amount",
        ("opportunity_no_amount", "opportunity_blank_objection", "lead_no_is_converted"),
        with_bi=True,
        wecom_omit_fields={
            "checkin/getcheckindata": ("location_title",),
            "externalcontact/get_user_behavior_data": ("reply_percentage",),
            "externalcontact/batch/get_by_user": ("follow_info.remark_mobiles",),
        },
    )


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
        "数据源缺少 CRM（Salesforce） Opportunity.Decision_Chain__c；"
        "CRM（Salesforce） Opportunity.Objection__c 字段全部为空",
    )
    assert forecast[0] > 0 and forecast[1:5] == (0, 0, 0, 0)
    assert backtest[0] > 0 and backtest[1:4] == (0, 0, 0)
    assert waterfall[0] > 0 and waterfall[1] == 0 and waterfall[2] > 0
    assert phi[0] > 0 and phi[1] == 0 and phi[2] > 0 and phi[3] > 0


@NO_AMOUNT
def test_a_lead_export_without_is_converted_says_conversion_is_not_applicable(no_amount_run):
    """No Lead.IsConverted: conversion is null everywhere it is published (never 0%), and the
    blank Objection__c is an 'empty' finding of the source contract."""
    with duckdb.connect(str(no_amount_run.config.warehouse), read_only=True) as con:
        applicability = con.execute(
            "select is_applicable, reason from marts.rpt_metric_applicability "
            "where metric = 'lead_conversion'"
        ).fetchone()
        leads = con.execute(
            "select count(*), count(converted) from marts.fct_lead_response"
        ).fetchone()
        scores = con.execute("select count(*), count(is_converted) from marts.fct_lead_scores")
        scores = scores.fetchone()
        backtest = con.execute(
            "select count(*), count(actual_value) + count(routed_value) + count(routed_change) "
            "from marts.rpt_lead_routing_backtest where metric = 'conversion_rate'"
        ).fetchone()
        routing = con.execute(
            "select count(*), count(industry_converted_leads) from marts.rpt_lead_routing"
        ).fetchone()
        empty = con.execute(
            "select object, column_name from ops.source_contract where status = 'empty'"
        ).fetchall()
    assert applicability == (False, "数据源缺少 CRM（Salesforce） Lead.IsConverted")
    assert leads[0] > 0 and leads[1] == 0
    assert scores[0] > 0 and scores[1] == 0
    assert backtest[0] > 0 and backtest[1] == 0
    assert routing[1] == 0
    assert ("Opportunity", "Objection__c") in empty


@NO_AMOUNT
def test_a_wecom_field_every_response_lacks_is_recorded_and_its_rule_does_not_apply(
    no_amount_run,
):
    """Check-ins without location_title: ops.source_contract names the API and the field, the
    unverified-visit rule says 不适用 instead of flagging every visit; reply_percentage absent
    lands null, never 0."""
    with duckdb.connect(str(no_amount_run.config.warehouse), read_only=True) as con:
        empty = con.execute(
            "select object, column_name, degrades from ops.source_contract "
            "where source = 'wecom' and status = 'empty' order by 1, 2"
        ).fetchall()
        applicability = con.execute(
            "select is_applicable, reason from marts.rpt_metric_applicability "
            "where metric = 'unverified_visit'"
        ).fetchone()
        unverified = con.execute(
            "select count(*) from marts.dq_findings where rule = 'unverified_visit'"
        ).fetchone()[0]
        checkins, replies = con.execute(
            "select (select count(*) from raw_wecom.checkins), "
            "(select count(reply_percentage) from raw_wecom.user_behavior_data)"
        ).fetchone()
    assert [(o, c) for o, c, _ in empty] == [
        ("checkin/getcheckindata", "location_title"),
        ("externalcontact/batch/get_by_user", "follow_info.remark_mobiles"),
        ("externalcontact/get_user_behavior_data", "reply_percentage"),
    ]
    assert "unverified visits" in empty[0][2]
    assert applicability == (
        False,
        "企业微信 checkin/getcheckindata.location_title 字段全部为空",
    )
    assert checkins > 0 and unverified == 0 and replies == 0


@NO_AMOUNT
def test_wecom_contacts_without_mobiles_make_their_matching_not_applicable(no_amount_run):
    """WeCom contacts without remark_mobiles: the WeCom-contact-to-CRM-person match rate is
    null and 不适用 with the reason (never a 0% match), and lead response via WeCom says so;
    the contacts still count where no mobile is needed: every rep they follow has a WeCom id
    found, and new contacts without material still alert."""
    reason = "企业微信 externalcontact/batch/get_by_user.follow_info.remark_mobiles 字段全部为空"
    applicability = {
        m: (ok, why)
        for m, ok, why in query(
            no_amount_run,
            "select metric, is_applicable, reason from marts.rpt_metric_applicability",
        )
    }
    rates = {
        (e, link): (total, rate)
        for e, link, total, rate in query(
            no_amount_run,
            "select entity, link, total_records, match_rate from marts.rpt_identity_match",
        )
    }
    assert applicability["wecom_contact_match"] == (False, reason)
    assert applicability["lead_response_wecom"] == (False, reason)
    assert rates[("wecom_contact", "crm_person")] == (None, None)
    assert rates[("rep", "crm_user")][1] > 0
    unmatched_followers, alerts = query(
        no_amount_run,
        "select (select count(*) from marts.fct_identity_links l "
        "inner join marts.dim_rep r on l.record_id = r.rep_id "
        "where l.link = 'wecom_user' and not l.is_matched "
        "and r.wecom_userid in (select userid from raw_wecom.external_contacts)), "
        "(select count(*) from marts.alerts where alert_type = 'new_contact_no_material')",
    )[0]
    assert unmatched_followers == 0 and alerts > 0


@NO_AMOUNT
def test_the_win_model_leaves_out_the_decision_chain_it_cannot_see(no_amount_run):
    """No Decision_Chain__c: the feature is null (not all false), the model has no coefficient
    for it and no deal names it as a driver (training without it: tests/test_win_model.py)."""
    values, features, _, drivers = _win_model_features(no_amount_run)
    assert values["has_decision_chain"] == 0 and values["activities_recent"] > 0
    assert "has_decision_chain" not in features and "has_trial" in features
    assert not any(d.startswith("决策链") for d in drivers)


@NO_AMOUNT
def test_forecast_and_health_pages_say_not_applicable_not_zero(no_amount_run):
    from tests.support import pages

    site = no_amount_run.config.bi_out_dir
    reports = {
        r.page: r
        for r in pages.inspect_pages(
            site, ["forecast", "process-health", "leads", "lead-response", "data-quality"]
        )
    }
    for report in reports.values():
        assert report.console_errors == [] and report.error_boxes == [], report
        # a chart of a metric that is not applicable is left out, not drawn empty
        assert report.blank_charts == [], report
    assert "转化率：不适用" in reports["leads"].text
    assert "Lead.IsConverted" in reports["leads"].text
    forecast = reports["forecast"].text
    assert "赢单预测：不适用" in forecast
    assert "加权预测与经验预测：不适用" in forecast and "预测误差：不适用" in forecast
    assert "商机瀑布金额：不适用" in forecast
    assert "Opportunity.Amount" in forecast
    assert "平均月误差" not in forecast  # no method is chosen on errors computed from nothing
    assert "企业微信消息触达：不适用" in reports["lead-response"].text
    assert "不适用：企业微信 externalcontact/batch/get_by_user" in reports["data-quality"].text
    health = reports["process-health"].text
    assert "信息完整：不适用" in health and "Opportunity.Decision_Chain__c" in health
    assert "Opportunity.Objection__c 字段全部为空" in health
    # each open deal's win probability, with the features that drive it
    top = query(
        no_amount_run,
        "select opportunity_name from marts.rpt_deal_win_probability "
        "order by win_probability desc, opportunity_name limit 1",
    )[0]
    assert "在途商机的赢单概率" in forecast and top[0] in forecast
