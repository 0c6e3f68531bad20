"""The learned win probability on the demo org: trained month by month on the deals closed
before, it finds the planted trial signal, its contributions add up to its probability, it
falls back to the stage probabilities where too few deals have closed, and its forecast beats
the stage probabilities' in the time-split backtest."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict

import pytest

from tests.support.warehouse import query

pytestmark = pytest.mark.slow


def _truth(run, name: str) -> list[dict[str, str]]:
    with (run.sources / "truth" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_duckdb_run_fits_the_model_inside_its_one_dbt_build(demo_run):
    # each dbt invocation of the run's dbt op writes its own target folder (run_results.json)
    targets = sorted((demo_run.root / ".dbt").glob(f"dbt_models-{demo_run.outcome.run_id[:8]}-*"))
    assert len(targets) == 1, targets
    results = json.loads((targets[0] / "run_results.json").read_text(encoding="utf-8"))
    built = {r["unique_id"] for r in results["results"] if r["status"] == "success"}
    fit = ["fct_win_features", "win_model_fit", "fct_win_model_coefficients", "fct_win_probability"]
    assert {f"model.salesops.{name}" for name in fit} <= built
    assert query(demo_run, "select count(*) from ml.win_model_fit")[0][0] > 0


def test_the_model_beats_the_stage_probabilities_on_the_backtest(demo_run):
    rows = query(
        demo_run,
        "select cast(month as varchar), stage_forecast, stage_pct_error, model_pct_error, "
        "is_model_trained from marts.rpt_forecast_backtest "
        "where not is_month_running and stage_pct_error is not null order by month",
    )
    trained = [(s, m) for _month, _f, s, m, is_trained in rows if is_trained]
    assert len(trained) >= 3, rows
    stage_error = sum(s for s, _ in trained) / len(trained)
    model_error = sum(m for _, m in trained) / len(trained)
    assert model_error < stage_error, (model_error, stage_error)
    # the stage forecast adds up the truth's weighted deals of each month
    want: dict[str, float] = defaultdict(float)
    for t in _truth(demo_run, "forecast_inputs.csv"):
        want[t["month"]] += round(float(t["amount"]) * float(t["win_probability"]), 2)
    for month, stage_forecast, *_ in rows:
        assert math.isclose(float(stage_forecast), want.get(month, 0.0), abs_tol=0.005), month
    (choice,) = query(
        demo_run,
        "select better_method, model_mean_error, stage_mean_error from marts.rpt_forecast_method",
    )
    assert choice[0] == "model" and choice[1] < choice[2], choice


def test_the_planted_trial_raises_the_odds_and_contributions_add_up(demo_run):
    trials = {
        t["opportunity_id"]: t["trial_at"][:10]
        for t in _truth(demo_run, "win_signals.csv")
        if t["has_trial"] == "True"
    }
    features = query(
        demo_run,
        "select opportunity_id, cast(pipeline_date as varchar), has_trial "
        "from marts.fct_win_features",
    )
    # every planted trial counts from its day on (the org's own notes mention trials too)
    planted = [(opp, day, has) for opp, day, has in features if opp in trials]
    assert planted and not all(has for *_, has in features)
    for opp, day, has_trial in planted:
        if trials[opp] <= day:
            assert has_trial, (opp, day)
    coefficients = query(
        demo_run,
        "select model_month, coefficient from marts.fct_win_model_coefficients "
        "where feature = 'has_trial' and is_trained",
    )
    assert coefficients and all(c > 0.3 for _, c in coefficients), coefficients
    rows = query(
        demo_run,
        "select model_probability, win_probability, contribution_intercept + contribution_stage"
        " + contribution_dwell + contribution_activities + contribution_trial"
        " + contribution_decision_chain from marts.fct_win_probability "
        "where model_status = 'model'",
    )
    assert len(rows) > 1000
    for model_p, p, logit in rows:
        assert model_p == p == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-9)


def test_months_with_too_few_closed_deals_use_the_stage_probabilities(demo_run):
    months = query(
        demo_run,
        "select model_month, max(closed_deals), max(won_deals), count(coefficient) "
        "from marts.fct_win_model_coefficients where not is_trained group by model_month",
    )
    assert months, "the org's first month has no closed deals behind it"
    for _month, closed, won, coefficients in months:
        assert coefficients == 0 and (closed < 30 or won in (0, closed))
    rows = query(
        demo_run,
        "select f.model_status, f.model_probability, f.win_probability, f.stage_probability, "
        "f.contribution_trial from marts.fct_win_probability f "
        "join marts.fct_win_model_coefficients c "
        "on date_trunc('month', f.pipeline_date) = c.model_month "
        "and c.feature = 'intercept' and not c.is_trained",
    )
    assert rows
    for status, model_p, p, stage_p, contribution in rows:
        assert status == "too_few_closed_deals" and model_p is None and contribution is None
        assert p == stage_p
    untrained = query(
        demo_run,
        "select model_forecast, stage_forecast from marts.rpt_forecast_backtest "
        "where not is_model_trained",
    )
    assert untrained and all(m == s for m, s in untrained)


def test_open_deals_carry_their_win_probability_and_its_drivers(demo_run):
    """One row per open deal on the as-of day with fct_win_probability's probability; the
    top driver is the feature whose contribution moves the log-odds most, with its sign."""
    labels = {
        "contribution_stage": "所处阶段",
        "contribution_dwell": "阶段停留相对P90",
        "contribution_activities": "近14天活动",
        "contribution_trial": "客户试用",
        "contribution_decision_chain": "决策链已填写",
    }
    open_deals = query(demo_run, "select count(*) from marts.rpt_open_opportunities")[0][0]
    rows = query(
        demo_run,
        "select d.opportunity_id, d.win_probability, p.win_probability, d.top_driver, "
        + ", ".join(f"d.{c}" for c in labels)
        + " from marts.rpt_deal_win_probability d join marts.fct_win_probability p "
        "on d.opportunity_id = p.opportunity_id "
        "and p.pipeline_date = (select max(pipeline_date) from marts.fct_win_probability)",
    )
    assert open_deals > 0 and len(rows) == open_deals
    modelled = 0
    for opp, mine, theirs, top, *contributions in rows:
        assert mine == theirs, opp
        named = {labels[c]: v for c, v in zip(labels, contributions, strict=True) if v}
        if not named:
            assert top is None, opp
            continue
        modelled += 1
        label, value = min(named.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
        assert top == label + ("（提升）" if value > 0 else "（拉低）"), opp
    assert modelled > 0
