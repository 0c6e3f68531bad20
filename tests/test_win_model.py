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


def _three_months() -> pd.DataFrame:
    """Deals closed in January and in February, and a deal open in March."""
    january = _features(lambda i: i % 2 == 0).iloc[:12]
    february = january.assign(
        opportunity_id="P" + january["opportunity_id"],
        pipeline_date=pd.Timestamp("2026-02-10"),
        closed_date=pd.Timestamp("2026-02-20"),
        activities_recent=january["activities_recent"] + 1,
    )
    march = january.iloc[:1].assign(
        opportunity_id="Q0", pipeline_date=pd.Timestamp("2026-03-02"), closed_date=None
    )
    return pd.concat([january, february, march], ignore_index=True)


def _by_month(table) -> dict[str, pd.DataFrame]:
    fit = table.to_pandas() if hasattr(table, "to_pandas") else table
    return {
        f"{month:%Y-%m}": rows.sort_values(["feature", "stage"]).reset_index(drop=True)
        for month, rows in fit.groupby("model_month")
    }


def test_a_month_whose_training_input_is_unchanged_is_taken_from_the_earlier_fit():
    features = _three_months()
    first = win_model.fit_table(features, SETTINGS).to_pandas()
    assert first.groupby("model_month")["is_trained"].all().tolist() == [False, True, True]
    # an earlier fit whose coefficients are recognisable: a month taken from it keeps them
    marked = first.assign(coefficient=first["coefficient"] + 1000)
    again = _by_month(win_model.fit_table(features, SETTINGS, marked))
    assert (again["2026-03"]["coefficient"] > 500).all()
    assert (again["2026-02"]["coefficient"] > 500).all()

    # a deal closed in February is edited: March learns from it and is fitted again, February
    # (trained on January's deals) and January are not
    edited = features.copy()
    edited.loc[edited["opportunity_id"] == "PO3", "activities_recent"] = 9.0
    later = _by_month(win_model.fit_table(edited, SETTINGS, marked))
    fresh = _by_month(win_model.fit_table(edited, SETTINGS))
    assert (later["2026-02"]["coefficient"] > 500).all()
    pd.testing.assert_frame_equal(later["2026-03"], fresh["2026-03"])
    assert not fresh["2026-03"]["coefficient"].equals(_by_month(first)["2026-03"]["coefficient"])
    for month in ("2026-01", "2026-02"):
        assert (later[month]["input_hash"] == fresh[month]["input_hash"]).all()


def test_other_settings_fit_every_month_again():
    features = _three_months()
    first = win_model.fit_table(features, SETTINGS).to_pandas()
    marked = first.assign(coefficient=first["coefficient"] + 1000)
    stronger = SETTINGS.assign(setting_value=["5", "2"])
    again = _by_month(win_model.fit_table(features, stronger, marked))
    fresh = _by_month(win_model.fit_table(features, stronger))
    for month in fresh:
        pd.testing.assert_frame_equal(again[month], fresh[month])


def test_an_earlier_fit_without_input_hashes_is_not_reused():
    features = _three_months()
    first = win_model.fit_table(features, SETTINGS).to_pandas()
    old = first.drop(columns="input_hash").assign(coefficient=first["coefficient"] + 1000)
    again = _by_month(win_model.fit_table(features, SETTINGS, old))
    for month, rows in _by_month(first).items():
        pd.testing.assert_frame_equal(again[month], rows)
