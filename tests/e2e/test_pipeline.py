"""The whole slice on a generated org: CRM + U8 + sheets -> dbt -> GX, scored against truth."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from devkit.demo.scoring import score_findings
from devkit.demo.scoring import table as score_table
from expectations import runner as gx_runner
from orchestration import runner
from tests.support.warehouse import query

pytestmark = pytest.mark.slow


def _truth(demo_run) -> dict[str, dict[str, str]]:
    with (demo_run.sources / "truth" / "leads.csv").open(encoding="utf-8") as fh:
        return {r["lead_id"]: r for r in csv.DictReader(fh)}


def test_the_run_succeeds_with_every_step_and_check(demo_run):
    outcome = demo_run.outcome
    assert outcome.success, outcome.errors
    assert outcome.failed_checks == []
    assert {"dbt_models", "ingest_crm", "ingest_u8", "ingest_sheets"} <= set(outcome.steps)
    assert any(step.startswith("gx_checks") for step in outcome.steps)
    # every GX suite reported on the asset it guards
    reported = {key.rsplit(":", 1)[-1] for key in outcome.evaluated_checks}
    assert {f"gx_{name}" for name in gx_runner.suite_names()} <= reported, reported


def test_lead_response_equals_the_truth(demo_run):
    """With CRM as the only touch source, each lead's hours and band are the truth's CRM view."""
    truth = _truth(demo_run)
    rows = query(
        demo_run,
        "select lead_id, rep_id, region, lead_source, response_hours, response_band, "
        "touched_within_72h, converted from marts.fct_lead_response",
    )
    assert len(rows) == len(truth)
    bands = set()
    for lead_id, rep_id, region, source, hours, band, within_72h, converted in rows:
        t = truth[lead_id]
        assert band == t["response_band_crm"], lead_id
        bands.add(band)
        assert converted == (t["converted"] == "true")
        assert source == t["lead_source"]
        if t["assigned_at"]:
            assert (rep_id, region) == (t["rep_id"], t["region"])
            assert within_72h == (t["touched_within_72h_crm"] == "true")
        if t["response_hours_crm"]:
            assert math.isclose(hours, float(t["response_hours_crm"]), abs_tol=1e-6)
        else:
            assert hours is None
    assert {"green", "yellow", "red"} <= bands


def test_rpt_lead_response_adds_up_to_the_fact(demo_run):
    fact = query(
        demo_run,
        "select count(*), count(*) filter (where responded_within_24h), "
        "round(sum(response_hours), 6) from marts.fct_lead_response",
    )[0]
    rpt = query(
        demo_run,
        "select sum(leads), sum(responded_within_24h), round(sum(total_response_hours), 6) "
        "from marts.rpt_lead_response",
    )[0]
    assert tuple(fact) == tuple(rpt)


def test_without_wecom_the_visit_rule_does_not_apply(demo_run):
    """Every source is optional: with no check-ins, no visit is called unverified."""
    con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
    rules = {r[0] for r in con.execute("select distinct rule from marts.dq_findings").fetchall()}
    con.close()
    assert "unverified_visit" not in rules
    assert "backfill_burst" in rules


def test_a_rerun_adds_no_rows(demo_run):
    def counts() -> dict[str, int]:
        con = duckdb.connect(str(demo_run.config.warehouse), read_only=True)
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw_crm', 'raw_u8', 'marts') and table_name not like '_dlt%'"
        ).fetchall()
        out = {
            f"{s}.{t}": con.execute(f'select count(*) from {s}."{t}"').fetchone()[0]
            for s, t in tables
        }
        con.close()
        return out

    before = counts()
    assert before["raw_crm.leads"] > 100
    outcome = runner.run(demo_run.config_path, exclude_groups=("bi",), echo=lambda _m: None)
    assert outcome.success, outcome.errors
    # nothing new: nothing built (the metric shares, a row per metric per build, stay too)
    assert outcome.build_note.startswith("nothing new"), outcome.build_note
    assert counts() == before


def test_adding_wecom_finds_the_earlier_touches(demo_run_with_wecom):
    """With WeCom messages as touches, each lead's response equals the full truth."""
    run = demo_run_with_wecom
    assert run.outcome.success, run.outcome.errors
    truth = _truth(run)
    con = duckdb.connect(str(run.config.warehouse), read_only=True)
    rows = con.execute(
        "select lead_id, response_hours, response_band from marts.fct_lead_response"
    ).fetchall()
    sources = dict(
        con.execute(
            "select table_name, 1 from information_schema.tables where table_schema = 'raw_wecom'"
        ).fetchall()
    )
    con.close()
    assert {"chat_messages", "external_contacts", "checkins"} <= set(sources)
    faster = 0
    for lead_id, hours, band in rows:
        t = truth[lead_id]
        assert band == t["response_band"], lead_id
        if t["response_hours"]:
            assert math.isclose(hours, float(t["response_hours"]), abs_tol=1e-6)
            if not t["response_hours_crm"] or float(t["response_hours"]) < float(
                t["response_hours_crm"]
            ):
                faster += 1
    assert faster > 0  # WeCom shows responses the CRM never recorded, or recorded late


def test_truthfulness_findings_match_the_planted_anomalies(demo_run_with_wecom):
    """SPEC §6 rules on the demo org: recall >= 95% and precision >= 90% for every rule."""
    run = demo_run_with_wecom
    scores = score_findings(run.config.warehouse, run.sources / "truth")
    print("\n" + score_table(scores))
    rules = {s.rule for s in scores if s.planted}
    assert {"backfill_burst", "short_visit", "unverified_visit", "duplicate_activity"} <= rules
    for s in scores:
        assert s.recall >= 0.95, s
        assert s.precision >= 0.90, s


def test_stage_history_equals_the_truth(demo_run_with_wecom):
    """Every stage entered, with its evidence and skips, as the generator recorded it."""
    run = demo_run_with_wecom
    with (run.sources / "truth" / "stage_entries.csv").open(encoding="utf-8") as fh:
        truth = {(r["opportunity_id"], r["stage"]): r for r in csv.DictReader(fh)}
    rows = query(
        run,
        "select opportunity_id, stage, has_evidence, skipped_from, entered_at, exited_at "
        "from marts.fct_stage_history",
    )
    assert len(rows) == len(truth)
    for opp, stage, has_evidence, skipped_from, entered_at, exited_at in rows:
        t = truth[(opp, stage)]
        assert has_evidence == (t["has_evidence"] == "true"), (opp, stage)
        assert (skipped_from or "") == t["skipped_from"], (opp, stage)
        assert entered_at.strftime("%Y-%m-%dT%H:%M:%SZ") == t["entered_at"], (opp, stage)
        assert (exited_at.strftime("%Y-%m-%dT%H:%M:%SZ") if exited_at else "") == t["exited_at"]


# SPEC §7: the published marts and the columns each must include
CONTRACT = {
    "dim_rep": "rep_id rep_name region manager_id crm_user_id wecom_userid u8_person_code",
    "dim_customer": "customer_id customer_name crm_account_id u8_customer_code region",
    "fct_lead_response": "lead_id rep_id region lead_source created_at assigned_at "
    "first_touch_at response_hours response_band touched_within_72h converted",
    "fct_stage_history": "opportunity_id stage entered_at exited_at dwell_days has_evidence "
    "skipped_from",
    "rpt_funnel_conversion": "entered advanced conversion_rate median_dwell_days",
    "rpt_process_health": "response_compliance key_action_completion info_completeness phi "
    "effective_interaction_rate",
    "fct_pipeline_daily": "stage amount win_probability weighted_amount expected_close_date",
    "rpt_forecast_vs_actual": "forecast_amount actual_invoiced actual_received abs_error pct_error",
    "alerts": "alert_type rep_id manager_id entity_id since severity message",
    "dq_findings": "rule severity source_table record_id rep_id detected_at details",
}
# the project's shared acceptance script, where a checkout has it beside the repository
CONTRACT_SCRIPT = Path("shared") / "acceptance" / "marts_contract.py"


def test_every_published_mart_is_there_with_rows(demo_run_with_wecom):
    """SPEC §7's ten marts with their columns and rows; the shared contract script, when it is
    beside the repository, must pass on the same warehouse."""
    warehouse = demo_run_with_wecom.config.warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    for table, columns in CONTRACT.items():
        have = {
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ?",
                [table],
            ).fetchall()
        }
        assert have, f"marts.{table} is missing"
        assert [c for c in columns.split() if c not in have] == [], table
        assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0, table
    phi = con.execute("select min(phi), max(phi) from marts.rpt_process_health").fetchone()
    con.close()
    assert 0 <= phi[0] <= phi[1] <= 100
    root = Path(__file__).resolve().parents[2]
    for script in (root.parent / CONTRACT_SCRIPT, root.parent.parent / CONTRACT_SCRIPT):
        if script.is_file():
            done = subprocess.run(
                [sys.executable, str(script), str(warehouse)], capture_output=True, text=True
            )
            assert done.returncode == 0, done.stdout + done.stderr
            assert "marts ok 10/10" in done.stdout


def _truth_csv(run, name: str) -> list[dict[str, str]]:
    with (run.sources / "truth" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_process_health_parts_equal_the_truth(demo_run_with_wecom):
    """PHI's three parts per rep x month equal what the generator did (SPEC §5), and PHI is
    their weighted mean over the parts the rep had a chance to show."""
    run = demo_run_with_wecom
    truth = {(r["month"], r["rep_id"]): r for r in _truth_csv(run, "process_health.csv")}
    rows = query(
        run,
        "select cast(month as varchar), rep_id, response_compliance, key_action_completion, "
        "info_completeness, phi from marts.rpt_process_health",
    )
    assert {(m, r) for m, r, *_ in rows} == set(truth)
    compared = 0
    for month, rep_id, response, key_action, info, phi in rows:
        t = truth[(month, rep_id)]
        parts = []
        for got, want, weight in (
            (response, t["response_compliance"], 30),
            (key_action, t["key_action_completion"], 40),
            (info, t["info_completeness"], 30),
        ):
            if want == "":
                assert got is None, (month, rep_id)
                continue
            assert math.isclose(got, float(want), abs_tol=1e-6), (month, rep_id, got, want)
            parts.append((float(want), weight))
            compared += 1
        expected_phi = 100 * sum(v * w for v, w in parts) / sum(w for _, w in parts)
        assert math.isclose(phi, expected_phi, abs_tol=1e-6), (month, rep_id)
    assert compared > 100


def test_forecast_inputs_equal_the_truth(demo_run_with_wecom):
    """On each month's first day: the open deals expected to close that month (close date as
    it stood that day), their stage, amount and weight; the forecast mart adds them up."""
    run = demo_run_with_wecom
    truth = _truth_csv(run, "forecast_inputs.csv")
    rows = query(
        run,
        "select cast(pipeline_date as varchar), opportunity_id, stage, amount, win_probability, "
        "cast(expected_close_date as varchar) from marts.fct_pipeline_daily "
        "where pipeline_date = date_trunc('month', pipeline_date) "
        "and date_trunc('month', expected_close_date) = pipeline_date",
    )
    forecasts = "select month, region, forecast_amount from marts.rpt_forecast_vs_actual"
    forecast = {(str(m), region): float(amount) for m, region, amount in query(run, forecasts)}
    want = {
        (t["month"], t["opportunity_id"]): (
            t["stage"],
            float(t["amount"]),
            float(t["win_probability"]),
            t["expected_close_date"],
        )
        for t in truth
    }
    got = {
        (m, opp): (stage, float(amount), float(p), close)
        for m, opp, stage, amount, p, close in rows
    }
    assert got == want
    assert len(want) > 20
    by_region: dict[tuple[str, str], float] = {}
    for t in truth:
        key = (t["month"], t["region"])
        weighted = round(float(t["amount"]) * float(t["win_probability"]), 2)
        by_region[key] = by_region.get(key, 0.0) + weighted
    for key, amount in by_region.items():
        assert math.isclose(forecast[key], amount, abs_tol=0.005), key


def test_the_incremental_activity_timeline_equals_a_full_rebuild(demo_run_with_wecom, tmp_path):
    """Adding WeCom re-ran fct_activities incrementally: months of chat history arrived late and
    still landed; the table equals one built from scratch."""
    import shutil
    import subprocess

    from salesops.dbt import dbt_executable

    run = demo_run_with_wecom
    copy = tmp_path / "rebuild.duckdb"
    shutil.copy(run.config.warehouse, copy)
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    subprocess.run(
        [
            dbt_executable(),
            "run",
            "--select",
            "fct_activities",
            "--full-refresh",
            "--vars",
            f'{{"as_of": "{run.config.as_of.isoformat()}"}}',
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(tmp_path / "target"),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SALESOPS_WAREHOUSE": str(copy)},
    )
    con = duckdb.connect(str(run.config.warehouse), read_only=True)
    con.execute(f"attach '{copy}' as rebuilt (read_only)")
    channels = dict(
        con.execute("select channel, count(*) from marts.fct_activities group by 1").fetchall()
    )
    diff = con.execute(
        "select count(*) from (select * from marts.fct_activities "
        "except all select * from rebuilt.marts.fct_activities)"
    ).fetchone()[0]
    diff_back = con.execute(
        "select count(*) from (select * from rebuilt.marts.fct_activities "
        "except all select * from marts.fct_activities)"
    ).fetchone()[0]
    con.close()
    assert {"crm_task", "crm_event", "wecom_message", "wecom_checkin"} <= set(channels)
    assert (diff, diff_back) == (0, 0)


def test_alerts_name_an_owner_and_red_leads_equal_the_truth(demo_run_with_wecom):
    """Every alert reaches a rep and a manager; the untouched-red-lead alerts are exactly the
    truth's leads still untouched past 24 h, not converted, assigned within the lookback."""
    from datetime import datetime, timedelta

    run = demo_run_with_wecom
    rows = query(
        run,
        "select alert_type, entity_id, rep_id, manager_id, severity, since from marts.alerts",
    )
    kinds = {r[0] for r in rows}
    assert kinds <= {
        "stagnation",
        "deal_no_activity",
        "deal_stalled",
        "deal_single_threaded",
        "deal_close_pushed",
        "new_contact_no_material",
        "response_red",
        "customer_health_red",
        "competitor_price",
        "chat_risk",
    }
    assert {"stagnation", "response_red", "new_contact_no_material", "deal_close_pushed"} <= kinds
    assert all(r[2] and r[3] and r[5] for r in rows), [r for r in rows if not (r[2] and r[3])]
    # the as-of day ends at 23:59:59 Asia/Shanghai
    as_of_end = datetime.combine(run.config.as_of, datetime.max.time()).replace(
        microsecond=0
    ) - timedelta(hours=8)
    lookback = as_of_end - timedelta(days=14)
    want = {
        t["lead_id"]
        for t in _truth(run).values()
        if t["response_band"] == "red"
        and not t["first_touch_at"]
        and t["converted"] == "false"
        and datetime.strptime(t["assigned_at"], "%Y-%m-%dT%H:%M:%SZ") > lookback
    }
    assert {r[1] for r in rows if r[0] == "response_red"} == want
    assert want


def test_identity_match_rates(demo_run_with_wecom):
    """The generated org sheet is complete: every rep finds its CRM user, WeCom account and U8
    person; every won account its U8 customer; counts add up."""
    run = demo_run_with_wecom
    con = duckdb.connect(str(run.config.warehouse), read_only=True)
    rates = {
        (e, link): (total, matched, unmatched, rate)
        for e, link, total, matched, unmatched, rate in con.execute(
            "select entity, link, total_records, matched_records, unmatched_records, match_rate "
            "from marts.rpt_identity_match"
        ).fetchall()
    }
    unmatched = con.execute(
        "select entity, link, count(*) from marts.fct_identity_links where not is_matched "
        "group by all"
    ).fetchall()
    con.close()
    for link in ("crm_user", "wecom_user", "u8_person"):
        assert rates[("rep", link)][3] == 1.0, link
    assert rates[("account", "u8_customer")][3] == 1.0
    assert rates[("wecom_contact", "crm_person")][0] > 100
    for total, matched, miss, rate in rates.values():
        assert total == matched + miss and math.isclose(rate, matched / total)
    for entity, link, n in unmatched:
        assert rates[(entity, link)][2] == n


def test_every_raw_table_has_a_staging_model(demo_run_with_wecom):
    """Every table a source lands (all four sources) is declared as a dbt source and read by a
    staging model."""
    import json

    from salesops.dbt import ensure_manifest

    project = Path(__file__).resolve().parents[2] / "dbt_project"
    manifest = json.loads(ensure_manifest(project, project).read_text(encoding="utf-8"))
    staged = {
        (manifest["sources"][dep]["schema"], manifest["sources"][dep]["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"].startswith("stg_")
        for dep in node["depends_on"]["nodes"]
        if dep.startswith("source.")
    }
    con = duckdb.connect(str(demo_run_with_wecom.config.warehouse), read_only=True)
    landed = set(
        con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw_crm', 'raw_wecom', 'raw_u8', 'raw_sheets') "
            "and table_name not like '\\_dlt%' escape '\\'"
        ).fetchall()
    )
    con.close()
    assert {s for s, _ in landed} == {"raw_crm", "raw_wecom", "raw_u8", "raw_sheets"}
    assert sorted(landed - staged) == []
