"""Plausibility checks: an input error that silently empties a metric (no lead assigned, no
first touch, no account matched to U8, a share that jumps between builds) fails a blocking
suite whose message names the likely cause; the demo org passes every one."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from expectations import runner
from tests.support.dbt import dbt_run

SUITES = ["lead_plausibility", "u8_match_plausibility", "metric_shares"]


@pytest.fixture
def warehouse(demo_run, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_run.config.warehouse, path)
    return path


def _validate(warehouse, demo_run) -> dict[str, runner.ValidationSummary]:
    return {
        s.suite: s
        for s in runner.validate_all(warehouse, as_of=demo_run.config.as_of, names=SUITES)
    }


def _build_shares(warehouse, demo_run, target) -> None:
    """Another build of the share history (dbt appends one row per metric)."""
    dbt_run(warehouse, demo_run.config.as_of, "fct_metric_shares", target)


def _failed(summary: runner.ValidationSummary) -> dict[str, str]:
    return {o.rule: o.sample[0] for o in summary.failures()}


def test_the_demo_org_is_plausible_build_after_build(demo_run, warehouse, tmp_path):
    _build_shares(warehouse, demo_run, tmp_path / "target")  # a second build, same data
    summaries = _validate(warehouse, demo_run)
    for name in SUITES:
        assert summaries[name].success, (name, summaries[name].lines())
        assert summaries[name].blocking
    assert summaries["metric_shares"].evaluated == 3


def test_no_lead_assigned_and_no_first_touch_fail_with_their_likely_cause(demo_run, warehouse):
    # what LeadHistory with owner names instead of ids and tasks without times leave behind
    con = duckdb.connect(str(warehouse))
    con.execute("update marts.fct_lead_response set assigned_at = null, first_touch_at = null")
    con.close()
    failed = _failed(_validate(warehouse, demo_run)["lead_plausibility"])
    assert failed.keys() == {"no_lead_assigned", "no_first_touch"}
    assert "leads have a user owner" in failed["no_lead_assigned"]
    assert "LeadHistory owner changes carry user names" in failed["no_lead_assigned"]
    assert "tasks and events sit on leads" in failed["no_first_touch"]
    assert "CompletedDateTime" in failed["no_first_touch"]


def test_no_account_matched_to_u8_fails_with_its_likely_cause(demo_run, warehouse):
    # an org whose ERP code field is named otherwise and whose U8 names differ: no match at all
    con = duckdb.connect(str(warehouse))
    con.execute("update raw_crm.accounts set erp_customer_code_c = null")
    con.execute("update raw_u8.customer set ccusname = 'U8-' || ccuscode")
    con.close()
    dbt_run(warehouse, demo_run.config.as_of, "dim_customer", warehouse.parent / "target")
    failed = _failed(_validate(warehouse, demo_run)["u8_match_plausibility"])
    assert failed.keys() == {"no_account_matched_to_u8"}
    assert "ERP code field" in failed["no_account_matched_to_u8"]


def test_a_share_that_jumps_between_builds_fails_against_the_settings_limit(
    demo_run, warehouse, tmp_path
):
    # the next build lost half of the first touches (a narrower export, say)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "update marts.fct_lead_response set first_touch_at = null where hash(lead_id) % 2 = 0"
    )
    con.close()
    _build_shares(warehouse, demo_run, tmp_path / "target")
    summary = _validate(warehouse, demo_run)["metric_shares"]
    failed = _failed(summary)
    assert failed.keys() == {"lead_first_touch_jump"}
    assert "share_jump_max 30%" in failed["lead_first_touch_jump"]
    assert "Task CompletedDateTime" in failed["lead_first_touch_jump"]
    # a company that expects such moves raises the limit in its settings sheet
    con = duckdb.connect(str(warehouse))
    con.execute("update raw_sheets.settings set value = '0.9' where name = 'share_jump_max'")
    con.close()
    assert _validate(warehouse, demo_run)["metric_shares"].success


def test_a_suite_waits_for_every_model_it_reads():
    from orchestration.defs.quality import SPECS

    def deps(check: str) -> set[str]:
        return {d.asset_key.to_user_string() for d in SPECS[check][1].additional_deps or []}

    assert deps("gx_metric_shares") == {"fct_metric_shares"}
    assert deps("gx_lead_plausibility") == {"stg_crm__leads", "stg_crm__tasks", "stg_crm__events"}
    assert deps("gx_u8_match_plausibility") == {"stg_u8__customers", "stg_u8__sales_orders"}
    assert all(SPECS[f"gx_{s}"][1].blocking for s in SUITES)
