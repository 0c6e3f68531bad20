"""The win model's fit on DuckDB, inside the one ``dbt build`` of a run: the same numpy
function (salesops.win_model.fit_table) on fct_win_features and the settings, written as
ml.win_model_fit for fct_win_model_coefficients. dbt-duckdb runs it in dbt's own process.
Enabled on DuckDB only (dbt_project.yml); on Spark the fit runs between two dbt steps
(orchestration/defs/transform.py) and writes the same table.

Incremental: a run hands the table as it stands to the fit, which reuses the months whose
training input is unchanged (their input hash) and fits the others; every month is written
again (by model_month), and a month no longer in the features is deleted after
(dbt_project.yml). A full refresh fits every month."""

from salesops import win_model


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="model_month",
        on_schema_change="sync_all_columns",
    )
    # only what the fit reads, in the order it fits in: half the fit's time at scale M
    features = (
        dbt.ref("fct_win_features")
        .project(", ".join(win_model.TRAINING_COLUMNS))
        .order("pipeline_date, opportunity_id")
        .df()
    )
    settings = dbt.ref("stg_sheets__settings").df()
    previous = session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else None
    return win_model.fit_table(features, settings, previous)
