"""The win model's coefficients, one set per month: a logistic regression with L2
regularisation trained on the deals closed (won or lost) before the month's first day, so
that the month's days are scored by a model that had not seen how they end. Each closed deal
weighs one in training, spread over the open days it contributes (fct_win_features).

A month with fewer than win_model_min_closed closed deals behind it (or deals of one outcome
only) is not trained: its rows say so (is_trained false, coefficients null) and
fct_win_probability falls back to the stage probabilities. Deterministic: Newton's method
from zero, a fixed number of steps."""

import numpy as np
import pandas as pd

NUMERIC = ["dwell_vs_p90", "activities_recent", "has_trial", "has_decision_chain"]
COLUMNS = {
    "model_month": "datetime64[us]",
    "feature": "object",
    "stage": "object",
    "coefficient": "float64",
    "closed_deals": "int64",
    "won_deals": "int64",
    "training_rows": "int64",
    "is_trained": "bool",
    "l2": "float64",
}


def fit(x, y, w, l2, steps=50):
    """Weighted logistic regression, L2 on every coefficient but the intercept (column 0)."""
    beta = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        grad = x.T @ (w * (p - y)) + penalty * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        delta = np.linalg.solve(hess, grad)
        beta -= delta
        if np.max(np.abs(delta)) < 1e-10:
            break
    return beta


def frame(relation):
    """A pandas frame of a ref: DuckDB relations have .df(), Spark DataFrames .toPandas()."""
    return relation.df() if hasattr(relation, "df") else relation.toPandas()


def setting(settings, name):
    values = settings.loc[settings["setting_name"] == name, "setting_value"]
    return float(values.iloc[0])


def model(dbt, session):
    dbt.config(materialized="table")
    # in a fixed order, so that the sums (and the coefficients) do not depend on the scan order
    features = frame(dbt.ref("fct_win_features")).sort_values(
        ["pipeline_date", "opportunity_id"], ignore_index=True
    )
    settings = frame(dbt.ref("stg_sheets__settings"))
    min_closed = setting(settings, "win_model_min_closed")
    l2 = setting(settings, "win_model_l2")

    stages = sorted(features["stage"].dropna().unique())
    names = [("intercept", None)] + [("stage", s) for s in stages] + [(c, None) for c in NUMERIC]
    dates = pd.to_datetime(features["pipeline_date"])
    months = sorted(dates.dt.to_period("M").dt.to_timestamp().unique())
    closed = features[features["closed_date"].notna()].dropna(subset=NUMERIC + ["stage"])
    closed_dates = pd.to_datetime(closed["closed_date"])

    rows = []
    for month in months:
        train = closed[closed_dates < month]
        deals = train.groupby("opportunity_id")["is_won"].first()
        n_deals, n_won = len(deals), int(deals.sum())
        trained = n_deals >= min_closed and 0 < n_won < n_deals
        beta = np.full(len(names), np.nan)
        if trained:
            x = np.column_stack(
                [np.ones(len(train))]
                + [(train["stage"] == s).to_numpy(float) for s in stages]
                + [train[c].to_numpy(float) for c in NUMERIC]
            )
            y = train["is_won"].to_numpy(float)
            w = 1.0 / train.groupby("opportunity_id")["opportunity_id"].transform("size")
            beta = fit(x, y, w.to_numpy(float), l2)
        for (name, stage), coefficient in zip(names, beta, strict=True):
            rows.append(
                {
                    "model_month": month,
                    "feature": name,
                    "stage": stage,
                    "coefficient": None if np.isnan(coefficient) else float(coefficient),
                    "closed_deals": n_deals,
                    "won_deals": n_won,
                    "training_rows": len(train),
                    "is_trained": trained,
                    "l2": l2,
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(COLUMNS)
