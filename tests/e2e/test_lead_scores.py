"""Lead scores and lead routing on the demo org: the score ranks the leads that convert (AUC of
the score a rep saw before conversion, on closed leads), the CRM-only run says which behaviours
it could see, routing recommends the rep planted as strongest in the lead's industry, and the
routing backtest carries intervals around its changes."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from tests.support.ranking import auc
from tests.support.warehouse import query

pytestmark = pytest.mark.slow

CLOSED = "not is_open"


def test_auc_of_known_orders():
    assert auc([(1, False), (2, True)]) == 1.0
    assert auc([(1, True), (2, False)]) == 0.0
    assert auc([(1, True), (1, False)]) == 0.5
    assert auc([(0, False), (1, True), (1, False), (2, True)]) == pytest.approx(0.875)


def _score_auc(run) -> tuple[float, int]:
    rows = query(
        run,
        f"select score_before_conversion, is_converted from marts.fct_lead_scores where {CLOSED}",
    )
    return auc([(float(s), bool(c)) for s, c in rows]), len(rows)


def test_the_score_ranks_converting_leads_on_the_demo_org(demo_run_with_wecom):
    value, leads = _score_auc(demo_run_with_wecom)
    print(f"demo org (CRM + WeCom): score AUC {value:.3f} on {leads} closed leads")
    assert leads > 500
    # the planted questions come before conversion: the score a rep saw ranks well
    assert value > 0.65
    # the score before conversion leaves out what came on or after the conversion day
    late = query(
        demo_run_with_wecom,
        "select count(*) from marts.fct_lead_scores where is_converted "
        "and score_before_conversion <> score",
    )
    assert late[0][0] > 0


def test_crm_only_scores_say_which_behaviours_they_saw(demo_run):
    rows = query(
        demo_run,
        "select count(*), bool_or(has_wecom), min(behaviors_available), "
        "count(*) filter (where grade is null) from marts.rpt_lead_scores",
    )
    open_leads, has_wecom, available, ungraded = rows[0]
    assert open_leads > 0 and not has_wecom and ungraded == 0
    assert "参加展会" in available and "客户主动询价" not in available
    wecom = query(
        demo_run,
        "select count(*) from marts.fct_lead_behaviors "
        "where signal_type in ('wecom_question', 'wecom_reply', 'no_reply_days')",
    )
    assert wecom == [(0,)]
    value, leads = _score_auc(demo_run)
    print(f"demo org (CRM only): score AUC {value:.3f} on {leads} closed leads")


def test_routing_recommends_the_planted_strong_rep(demo_run_with_wecom):
    skill = defaultdict(dict)
    with (demo_run_with_wecom.sources / "truth" / "rep_industry_skill.csv").open(
        encoding="utf-8"
    ) as fh:
        for row in csv.DictReader(fh):
            skill[row["region"]][row["industry"]] = row["rep_id"]
    routed = query(
        demo_run_with_wecom,
        "select region, industry, rep_id, is_available from marts.rpt_lead_routing "
        "where current_rep_id is not null",
    )
    judged = [(r, i, rep) for r, i, rep, available in routed if i in skill[r] and available]
    hits = sum(1 for r, i, rep in judged if skill[r][i] == rep)
    share = hits / len(judged)
    print(f"routing: planted strong rep recommended for {hits}/{len(judged)} leads ({share:.0%})")
    assert len(judged) >= 30
    assert share >= 0.8


def test_routing_backtest_has_intervals(demo_run_with_wecom):
    rows = query(
        demo_run_with_wecom,
        "select metric, leads, moved_leads, actual_value, routed_value, routed_change, "
        "change_ci_low, change_ci_high from marts.rpt_lead_routing_backtest "
        "where region = '全部' order by 1",
    )
    assert [r[0] for r in rows] == ["conversion_rate", "first_touch_hours", "followup_72h_rate"]
    for metric, leads, moved, actual, routed, change, low, high in rows:
        print(
            f"backtest {metric}: actual {actual:.3f} routed {routed:.3f} change {change:+.3f} "
            f"[{low:+.3f}, {high:+.3f}] ({moved}/{leads} leads moved)"
        )
        assert leads > 500 and 0 < moved < leads
        assert low <= change <= high and change == pytest.approx(routed - actual)
    conversion = rows[0]
    # routing to the rep strong in the industry raises conversion, outside the noise
    assert conversion[6] > 0
