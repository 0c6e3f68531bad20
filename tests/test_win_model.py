"""The win model's fit (salesops.win_model) on hand-made features: a feature null in every row
(its source column is missing) is left out of the model, which still trains on the rest."""

from __future__ import annotations

import pandas as pd

from salesops import win_model


def _features(decision_chain) -> pd.DataFrame:
    rows = []
    for i in range(12):
        won = i % 3 != 0
        rows.append(
            {
                "pipeline_date": pd.Timestamp("2026-01-10"),
                "opportunity_id": f"O{i}",
                "stage": "solution_demo" if i % 2 else "needs_diagnosed",
                "dwell_vs_p90": 0.2 + 0.1 * (i % 4),
                "activities_recent": float(i % 5),
                "has_trial": won and i % 4 != 1,
                "has_decision_chain": decision_chain(i),
                "is_won": won,
                "closed_date": pd.Timestamp("2026-01-20"),
            }
        )
    rows.append({**rows[0], "pipeline_date": pd.Timestamp("2026-02-03"), "closed_date": None})
    return pd.DataFrame(rows)


SETTINGS = pd.DataFrame(
    {"setting_name": ["win_model_min_closed", "win_model_l2"], "setting_value": ["5", "1"]}
)


def _fit(features: pd.DataFrame) -> pd.DataFrame:
    fit = win_model.fit_table(features, SETTINGS).to_pandas()
    return fit[fit["model_month"] == pd.Timestamp("2026-02-01")]


def test_a_feature_null_in_every_row_is_left_out_and_the_model_still_trains():
    february = _fit(_features(lambda _i: None))
    assert february["is_trained"].all()
    assert "has_decision_chain" not in set(february["feature"])
    assert {"dwell_vs_p90", "activities_recent", "has_trial"} <= set(february["feature"])
    assert february["coefficient"].notna().all()


def test_a_feature_with_values_stays_in_the_model():
    february = _fit(_features(lambda i: i % 2 == 0))
    assert february["is_trained"].all()
    assert "has_decision_chain" in set(february["feature"])
