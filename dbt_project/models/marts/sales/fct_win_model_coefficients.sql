-- The win model (logistic regression, L2) per month, trained on the deals closed before the
-- month's first day: one row per month x feature (per stage for the stage feature). The fit is
-- salesops/win_model.py, the same numpy function on both engines, writing ml.win_model_fit: on
-- DuckDB the Python model win_model_fit of the same dbt build, on Spark a step in Python between
-- two dbt steps. This model publishes it with the types the models that read it expect.
-- depends_on: {{ ref('fct_win_features') }}
-- depends_on: {{ ref('stg_sheets__settings') }}
with

fit as (
    {%- if target.type == 'duckdb' %}
        select * from {{ ref('win_model_fit') }}
    {%- else %}
        select * from {{ api.Relation.create(schema='ml', identifier='win_model_fit') }}
    {%- endif %}
)

select
    cast(model_month as timestamp) as model_month,
    cast(feature as {{ dbt.type_string() }}) as feature,
    cast(stage as {{ dbt.type_string() }}) as stage,
    cast(coefficient as double) as coefficient,
    cast(closed_deals as bigint) as closed_deals,
    cast(won_deals as bigint) as won_deals,
    cast(training_rows as bigint) as training_rows,
    cast(is_trained as boolean) as is_trained,
    cast(l2 as double) as l2
from fit
