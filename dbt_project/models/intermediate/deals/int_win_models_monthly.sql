-- One row per month of the win model (fct_win_model_coefficients): whether it is trained, how
-- many closed deals it learnt from, and its coefficients but the stage's, one column each.
-- Read by fct_win_probability (applying the model) and rpt_forecast_backtest (its months).
with

coefficients as (
    select * from {{ ref('fct_win_model_coefficients') }}
),

monthly_models as (
    select
        cast(model_month as date) as model_month,
        max(case when is_trained then 1 else 0 end) = 1 as is_trained,
        max(closed_deals) as closed_deals,
        max(case when feature = 'intercept' then coefficient end) as coef_intercept,
        max(case when feature = 'dwell_vs_p90' then coefficient end) as coef_dwell,
        max(case when feature = 'activities_recent' then coefficient end) as coef_activities,
        max(case when feature = 'has_trial' then coefficient end) as coef_trial,
        max(case when feature = 'has_decision_chain' then coefficient end)
            as coef_decision_chain
    from coefficients
    group by cast(model_month as date)
)

select * from monthly_models
