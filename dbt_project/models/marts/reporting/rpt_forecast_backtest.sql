-- The time-split backtest of the two win forecasts, per month, all regions together: on the
-- month's first day, the open opportunities expected to close that month, weighted by
--   stage: the stage's win probability from the stage-config sheet;
--   model: the win model trained on the deals closed before the month (fct_win_probability;
--          the stage probability where the month has no trained model),
-- against the amount of the deals won that month, and each method's error
-- (|forecast - won| / won; empty when nothing was won). Without the amounts or close dates
-- (rpt_metric_applicability) every amount and error is null, never 0.
with

win_probability as (
    select * from {{ ref('fct_win_probability') }}
),

monthly_models as (
    select * from {{ ref('int_win_models_monthly') }}
),

outcomes as (
    select * from {{ ref('int_deal_outcomes') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

months as (
    select
        model_month as month,
        is_trained as is_model_trained,
        closed_deals as training_deals
    from monthly_models
    where model_month <= {{ as_of_date() }}
),

forecast as (
    select
        pipeline_date as month,
        count(*) as forecast_deals,
        sum(cast(amount * stage_probability as decimal(18, 2))) as stage_forecast,
        sum(cast(amount * win_probability as decimal(18, 2))) as model_forecast
    from win_probability
    where
        pipeline_date = cast({{ dbt.date_trunc('month', 'pipeline_date') }} as date)
        and cast({{ dbt.date_trunc('month', 'expected_close_date') }} as date) = pipeline_date
    group by pipeline_date
),

won_monthly as (
    select
        cast({{ dbt.date_trunc('month', 'outcomes.won_date') }} as date) as month,
        count(*) as won_deals,
        sum(opportunities.amount) as won_amount
    from outcomes
    inner join opportunities on outcomes.opportunity_id = opportunities.opportunity_id
    where outcomes.won_date is not null
    group by cast({{ dbt.date_trunc('month', 'outcomes.won_date') }} as date)
),

applicability as (
    {{ metric_applicability('forecast') }}
),

final as (
    select
        months.month,
        cast(coalesce(forecast.forecast_deals, 0) as bigint) as forecast_deals,
        cast(coalesce(won_monthly.won_deals, 0) as bigint) as won_deals,
        cast(months.training_deals as bigint) as training_deals,
        {{ applicable_amount('forecast.stage_forecast') }} as stage_forecast,
        {{ applicable_amount('forecast.model_forecast') }} as model_forecast,
        {{ applicable_amount('won_monthly.won_amount') }} as won_amount,
        {{ applicable_pct_error('forecast.stage_forecast', 'won_monthly.won_amount') }}
            as stage_pct_error,
        {{ applicable_pct_error('forecast.model_forecast', 'won_monthly.won_amount') }}
            as model_pct_error,
        months.is_model_trained,
        {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'months.month')) }} > {{ as_of_date() }}
            as is_month_running
    from months
    cross join applicability
    left join forecast on months.month = forecast.month
    left join won_monthly on months.month = won_monthly.month
)

select * from final
