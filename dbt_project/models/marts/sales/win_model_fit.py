"""The win model's fit on DuckDB, inside the one ``dbt build`` of a run: the same numpy
function (salesops.win_model.fit_table) on fct_win_features and the settings, written as
ml.win_model_fit for fct_win_model_coefficients. dbt-duckdb runs it in dbt's own process.
Enabled on DuckDB only (dbt_project.yml); on Spark the fit runs between two dbt steps
(orchestration/defs/transform.py) and writes the same table."""

from salesops import win_model


def model(dbt, session):
    features = dbt.ref("fct_win_features").df()
    settings = dbt.ref("stg_sheets__settings").df()
    return win_model.fit_table(features, settings)
