-- Win probability per day x open opportunity from the win model of the day's month (trained on
-- the deals closed before the month began, fct_win_model_coefficients), with each feature's
-- contribution to the log-odds (coefficient x value): intercept + stage + dwell against the
-- stage's p90 + recent activities + customer trial + decision chain = log-odds.
-- When the month's model is not trained (too few closed deals) or a feature the model needs is
-- missing, model_status says why, the model columns stay empty and win_probability is the
-- stage's probability from the stage-config sheet (probability_method = 'stage'). A feature
-- whose input the sources lack (fct_win_features: null) is not in the model: its contribution
-- is null and it is never named as a driver.
with

features as (
    select * from {{ ref('fct_win_features') }}
),

coefficients as (
    select * from {{ ref('fct_win_model_coefficients') }}
),

monthly_models as (
    select * from {{ ref('int_win_models_monthly') }}
),

stage_coefficients as (
    select
        cast(model_month as date) as model_month,
        stage,
        coefficient as coef_stage
    from coefficients
    where feature = 'stage' and is_trained
),

scored as (
    select
        features.pipeline_date,
        features.opportunity_id,
        features.rep_id,
        features.region,
        features.stage,
        features.amount,
        features.stage_probability,
        features.expected_close_date,
        features.dwell_vs_p90,
        features.activities_recent,
        features.has_trial,
        features.has_decision_chain,
        monthly_models.closed_deals as model_closed_deals,
        case
            when monthly_models.model_month is null or not monthly_models.is_trained
                then 'too_few_closed_deals'
            when stage_coefficients.coef_stage is null then 'stage_not_in_training'
            when features.dwell_vs_p90 is null then 'no_stage_p90'
            else 'model'
        end as model_status,
        monthly_models.coef_intercept,
        stage_coefficients.coef_stage,
        monthly_models.coef_dwell,
        monthly_models.coef_activities,
        monthly_models.coef_trial,
        monthly_models.coef_decision_chain
    from features
    left join monthly_models
        on
            cast({{ dbt.date_trunc('month', 'features.pipeline_date') }} as date)
            = monthly_models.model_month
    left join stage_coefficients
        on
            monthly_models.model_month = stage_coefficients.model_month
            and features.stage = stage_coefficients.stage
),

contributions as (
    select
        *,
        case when model_status = 'model' then coef_intercept end as contribution_intercept,
        case when model_status = 'model' then coef_stage end as contribution_stage,
        case when model_status = 'model' then coef_dwell * dwell_vs_p90 end
            as contribution_dwell,
        case when model_status = 'model' then coef_activities * activities_recent end
            as contribution_activities,
        case
            when model_status = 'model'
                then coef_trial * case when has_trial then 1.0 else 0.0 end
        end as contribution_trial,
        case
            when model_status = 'model'
                then coef_decision_chain * case when has_decision_chain then 1.0 else 0.0 end
        end as contribution_decision_chain
    from scored
),

log_odds as (
    select
        *,
        -- a feature the model left out (its input is missing: no coefficient) adds nothing
        contribution_intercept + contribution_stage + contribution_dwell
        + coalesce(contribution_activities, 0) + coalesce(contribution_trial, 0)
        + coalesce(contribution_decision_chain, 0)
            as model_log_odds
    from contributions
),

probabilities as (
    select
        *,
        1.0 / (1.0 + exp(-model_log_odds)) as model_probability
    from log_odds
),

final as (
    select
        pipeline_date,
        opportunity_id,
        rep_id,
        region,
        stage,
        model_status,
        case when model_status = 'model' then 'model' else 'stage' end as probability_method,
        amount,
        cast(stage_probability as double) as stage_probability,
        cast(model_probability as double) as model_probability,
        cast(coalesce(model_probability, stage_probability) as double) as win_probability,
        cast(contribution_intercept as double) as contribution_intercept,
        cast(contribution_stage as double) as contribution_stage,
        cast(contribution_dwell as double) as contribution_dwell,
        cast(contribution_activities as double) as contribution_activities,
        cast(contribution_trial as double) as contribution_trial,
        cast(contribution_decision_chain as double) as contribution_decision_chain,
        dwell_vs_p90,
        activities_recent,
        cast(model_closed_deals as bigint) as model_closed_deals,
        has_trial,
        has_decision_chain,
        expected_close_date
    from probabilities
)

select * from final
