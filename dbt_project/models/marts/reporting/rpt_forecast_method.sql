-- Which win forecast to show: the mean monthly error of each method (rpt_forecast_backtest)
-- over the last six finished months with deals won, and the better of the two (the stage
-- probabilities on a tie). No row until a month has finished with deals won.
with

backtest as (
    select * from {{ ref('rpt_forecast_backtest') }}
),

ranked as (
    select
        month,
        stage_pct_error,
        model_pct_error,
        is_model_trained,
        row_number() over (order by month desc) as recency
    from backtest
    where not is_month_running and stage_pct_error is not null and model_pct_error is not null
),

recent as (
    select
        min(month) as first_month,
        max(month) as last_month,
        count(*) as months_compared,
        sum(case when is_model_trained then 1 else 0 end) as model_months,
        avg(stage_pct_error) as stage_mean_error,
        avg(model_pct_error) as model_mean_error
    from ranked
    where recency <= 6
),

final as (
    select
        case when model_mean_error < stage_mean_error then 'model' else 'stage' end
            as better_method,
        cast(months_compared as bigint) as months_compared,
        cast(model_months as bigint) as model_months,
        cast(stage_mean_error as double) as stage_mean_error,
        cast(model_mean_error as double) as model_mean_error,
        first_month,
        last_month
    from recent
    where months_compared > 0
)

select * from final
