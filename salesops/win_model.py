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

A month's fit depends only on its training rows, the settings, the features the model has and
this module: their hash is kept beside the month's coefficients (``input_hash``), and a later
fit given the earlier table reuses a month whose hash is unchanged instead of fitting it again.
The features' p90 dwell stays the same all month (marts.fct_win_features), and a deal closing
today trains no month yet: within a month a daily run fits again only the months a late or
edited record on a closed deal reaches; the first run of a month fits them all, and so does a
full refresh.

On DuckDB the fit is the dbt Python model ``win_model_fit`` (``FIT_MODEL``,
dbt_project/models/marts/sales/win_model_fit.py) inside the run's one ``dbt build``; on Spark
dbt runs in two steps around it (orchestration/defs/transform.py, salesops.spark.fit_win_model).
Either way it writes ``ml.win_model_fit`` (``FIT_SCHEMA``/``FIT_TABLE``), which
``fct_win_model_coefficients`` publishes; the numbers come from here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

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
        ("input_hash", pa.string()),
    ]
)
# what a month's fit reads of its training rows; and this module's code, part of every hash
TRAINING_COLUMNS = ["opportunity_id", "pipeline_date", "closed_date", "is_won", "stage", *NUMERIC]
CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


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


def _row_hashes(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each training row (128 bits in all)."""
    frame = rows[TRAINING_COLUMNS]
    return (
        pd.util.hash_pandas_object(frame, index=False).to_numpy(np.uint64),
        pd.util.hash_pandas_object(frame, index=False, hash_key="salesops-winfit2").to_numpy(
            np.uint64
        ),
    )


def input_hash(
    hashes: tuple[np.ndarray, np.ndarray], names: list, l2: float, min_closed: float
) -> str:
    """The hash of one month's fit input: its training rows as a set (a sum of row hashes,
    whatever their order), the model's features, the settings and this module."""
    with np.errstate(over="ignore"):
        sums = [int(h.sum(dtype=np.uint64)) for h in hashes]
    key = [CODE, names, l2, min_closed, len(hashes[0]), sums]
    return hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:32]


def _reusable(previous: pd.DataFrame | None) -> dict[tuple[pd.Timestamp, str], list[dict]]:
    """(month, input hash) -> that month's rows of an earlier fit table."""
    if previous is None or previous.empty or "input_hash" not in previous.columns:
        return {}
    out: dict[tuple[pd.Timestamp, str], list[dict]] = {}
    for row in previous.to_dict("records"):
        if isinstance(row["input_hash"], str):
            month = pd.Timestamp(row["model_month"])
            out.setdefault((month, row["input_hash"]), []).append(row)
    return out


def _stored(row: dict) -> dict:
    """An earlier fit table's row as ``fit_table`` writes it (nulls as None)."""
    out = {}
    for field in SCHEMA:
        value = row[field.name]
        if value is not None and not isinstance(value, str) and pd.isna(value):
            value = None
        elif field.name == "model_month":
            value = pd.Timestamp(value).to_pydatetime()
        out[field.name] = value
    return out


def fit_table(
    features: pd.DataFrame, settings: pd.DataFrame, previous: pd.DataFrame | None = None
) -> pa.Table:
    """The coefficients per month x feature (per stage for the stage feature) from the rows of
    fct_win_features and stg_sheets__settings, as an Arrow table of ``SCHEMA``. ``previous``:
    an earlier table of this function; its months whose input hash is the one computed now
    are taken from it, not fitted again."""
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

    hashes = _row_hashes(closed)
    reusable = _reusable(previous)

    rows = []
    for month in months:
        in_train = (closed_dates < month).to_numpy()
        digest = input_hash(tuple(h[in_train] for h in hashes), names, l2, min_closed)
        stored = reusable.get((pd.Timestamp(month), digest))
        if stored is not None and len(stored) == len(names):
            order = {
                (r["feature"], r["stage"] if isinstance(r["stage"], str) else None): r
                for r in stored
            }
            if set(order) == set(names):
                rows.extend(_stored(order[name]) for name in names)
                continue
        train = closed[in_train]
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
                    "input_hash": digest,
                }
            )
    return pa.Table.from_pylist(rows, schema=SCHEMA)
