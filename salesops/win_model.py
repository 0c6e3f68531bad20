"""The win model's fit: one numpy function whichever engine holds the warehouse.

A logistic regression with L2 regularisation per month, trained on the deals closed (won or
lost) before the month's first day, so that the month's days are scored by a model that had
not seen how they end. Each closed deal weighs one in training, spread over the open days it
contributes (``marts.fct_win_features``). A month with fewer than ``win_model_min_closed``
closed deals behind it (or deals of one outcome only) is not trained: its rows say so
(``is_trained`` false, coefficients null) and fct_win_probability falls back to the stage
probabilities. A feature null in every row (its source column is missing) is left out of the
model. Deterministic: Newton's method from zero, a fixed number of steps, over the
features in a fixed order (the sums do not depend on the engine's scan order).

On DuckDB the fit is the dbt Python model ``win_model_fit`` (``FIT_MODEL``,
dbt_project/models/marts/sales/win_model_fit.py) inside the run's one ``dbt build``; on Spark
dbt runs in two steps around it (orchestration/defs/transform.py, salesops.spark.fit_win_model).
Either way it writes ``ml.win_model_fit`` (``FIT_SCHEMA``/``FIT_TABLE``), which
``fct_win_model_coefficients`` publishes; the numbers come from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

# the model dbt builds from the fit table, the fit's Python model (DuckDB), and the two models
# the fit reads its inputs from
MODEL = "fct_win_model_coefficients"
FIT_MODEL = "win_model_fit"
FEATURES = ("marts", "fct_win_features")
SETTINGS = ("staging", "stg_sheets__settings")
FIT_SCHEMA, FIT_TABLE = "ml", "win_model_fit"

NUMERIC = ["dwell_vs_p90", "activities_recent", "has_trial", "has_decision_chain"]
SCHEMA = pa.schema(
    [
        ("model_month", pa.timestamp("us")),
        ("feature", pa.string()),
        ("stage", pa.string()),
        ("coefficient", pa.float64()),
        ("closed_deals", pa.int64()),
        ("won_deals", pa.int64()),
        ("training_rows", pa.int64()),
        ("is_trained", pa.bool_()),
        ("l2", pa.float64()),
    ]
)


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, steps: int = 50) -> np.ndarray:
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


def setting(settings: pd.DataFrame, name: str) -> float:
    values = settings.loc[settings["setting_name"] == name, "setting_value"]
    if values.empty:
        raise ValueError(f"settings sheet: setting {name!r} is missing (the win model needs it)")
    return float(values.iloc[0])


def fit_table(features: pd.DataFrame, settings: pd.DataFrame) -> pa.Table:
    """The coefficients per month x feature (per stage for the stage feature) from the rows of
    fct_win_features and stg_sheets__settings, as an Arrow table of ``SCHEMA``."""
    features = features.sort_values(["pipeline_date", "opportunity_id"], ignore_index=True)
    min_closed = setting(settings, "win_model_min_closed")
    l2 = setting(settings, "win_model_l2")

    stages = sorted(features["stage"].dropna().unique())
    # a feature whose input the sources lack is null in every row (fct_win_features): the model
    # leaves it out rather than learn from a constant, and it gets no coefficient
    numeric = [c for c in NUMERIC if features[c].notna().any()]
    names = [("intercept", None)] + [("stage", s) for s in stages] + [(c, None) for c in numeric]
    dates = pd.to_datetime(features["pipeline_date"])
    months = sorted(dates.dt.to_period("M").dt.to_timestamp().unique())
    closed = features[features["closed_date"].notna()].dropna(subset=numeric + ["stage"])
    closed_dates = pd.to_datetime(closed["closed_date"])

    rows = []
    for month in months:
        train = closed[closed_dates < month]
        deals = train.groupby("opportunity_id")["is_won"].first()
        n_deals, n_won = len(deals), int(deals.astype(bool).sum())
        trained = n_deals >= min_closed and 0 < n_won < n_deals
        beta = np.full(len(names), np.nan)
        if trained:
            x = np.column_stack(
                [np.ones(len(train))]
                + [(train["stage"] == s).to_numpy(float) for s in stages]
                + [train[c].to_numpy(float) for c in numeric]
            )
            y = train["is_won"].to_numpy(float)
            w = 1.0 / train.groupby("opportunity_id")["opportunity_id"].transform("size")
            beta = fit(x, y, w.to_numpy(float), l2)
        for (name, stage), coefficient in zip(names, beta, strict=True):
            rows.append(
                {
                    "model_month": pd.Timestamp(month).to_pydatetime(),
                    "feature": name,
                    "stage": stage,
                    "coefficient": None if np.isnan(coefficient) else float(coefficient),
                    "closed_deals": n_deals,
                    "won_deals": n_won,
                    "training_rows": len(train),
                    "is_trained": bool(trained),
                    "l2": l2,
                }
            )
    return pa.Table.from_pylist(rows, schema=SCHEMA)
