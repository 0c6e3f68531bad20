-- The win model's inputs, one row per day x open opportunity (the days of fct_pipeline_daily),
-- each as it stood that day: the stage, days in it against the stage's p90 dwell (of the stays
-- ended before the as-of day's month), CRM activities on the deal in the last
-- win_model_activity_days days, whether a customer trial has been logged (an activity with an
-- effective-action keyword of type `trial`), whether the decision chain is filled in; and the
-- deal's outcome (won or lost, and on which day) when it has closed, which the model trains
-- on: its stage history's (int_deal_outcomes).
-- A feature whose input the sources lack is null (the model leaves it out, salesops/win_model.py),
-- never a constant false or 0: the activity features without a CRM Task or Event object, the
-- decision chain without Opportunity.Decision_Chain__c (rpt_metric_applicability).
{%- set no_activity_source = contract_missing('crm', 'Task') and contract_missing('crm', 'Event') %}
with

pipeline as (
    select * from {{ ref('fct_pipeline_daily') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

effective_actions as (
    select * from {{ ref('stg_sheets__effective_actions') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

applicability as (
    {{ metric_applicability('win_decision_chain') }}
),

-- the stage's p90 dwell over the stays that ended before the as-of day's month: the same all
-- month long, so the rows the win model learns from stay as they were from one day to the
-- next (a month's model is fitted again only when a late or edited record reaches them)
stage_p90 as (
    select
        stage,
        percentile_cont(0.9) within group (order by dwell_days) as p90_dwell_days
    from stage_history
    where
        cast({{ to_local('exited_at') }} as date)
        < cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
        and stage in ({{ open_stages() }})
    group by stage
),

stage_entries as (
    select
        opportunity_id,
        stage,
        entered_date,
        coalesce(
            cast({{ to_local('exited_at') }} as date) - 1, {{ as_of_date() }}
        ) as valid_to
    from stage_history
    where stage in ({{ open_stages() }})
),

outcomes as (
    select * from {{ ref('int_deal_outcomes') }}
),

deal_activities as (
    select
        what_id as opportunity_id,
        description,
        cast({{ to_local('occurred_at') }} as date) as activity_date
    from activities
    where not is_deleted and what_id is not null
),

trials as (
    select
        deal_activities.opportunity_id,
        min(deal_activities.activity_date) as first_trial_date
    from deal_activities
    inner join effective_actions
        on
            {{ dbt.position(
                'effective_actions.keyword', "coalesce(deal_activities.description, '')"
            ) }} > 0
            and effective_actions.activity_type = 'trial'
    group by deal_activities.opportunity_id
),

recent_activity as (
    select
        pipeline.pipeline_date,
        pipeline.opportunity_id,
        count(*) as activities_recent
    from pipeline
    cross join settings
    inner join deal_activities
        on
            pipeline.opportunity_id = deal_activities.opportunity_id
            and pipeline.pipeline_date >= deal_activities.activity_date
            and {{ dbt.dateadd(
                'day', '-1 * cast(settings.win_model_activity_days as integer)', 'pipeline.pipeline_date'
            ) }} < deal_activities.activity_date
    group by pipeline.pipeline_date, pipeline.opportunity_id
),

features as (
    select
        pipeline.pipeline_date,
        pipeline.opportunity_id,
        pipeline.rep_id,
        pipeline.region,
        pipeline.stage,
        pipeline.amount,
        pipeline.win_probability as stage_probability,
        pipeline.expected_close_date,
        cast(
            {{ dbt.datediff('stage_entries.entered_date', 'pipeline.pipeline_date', 'day') }}
            as double
        ) as dwell_days,
        cast(stage_p90.p90_dwell_days as double) as p90_dwell_days,
        cast(
            least(
                {{ dbt.datediff('stage_entries.entered_date', 'pipeline.pipeline_date', 'day') }}
                / nullif(stage_p90.p90_dwell_days, 0),
                3.0
            ) as double
        ) as dwell_vs_p90,
        {%- if no_activity_source %}
            cast(null as double) as activities_recent,
            cast(null as boolean) as has_trial,
        {%- else %}
            cast(coalesce(recent_activity.activities_recent, 0) as double) as activities_recent,
            coalesce(trials.first_trial_date <= pipeline.pipeline_date, false) as has_trial,
        {%- endif %}
        {{ when_applicable("coalesce(trim(opportunities.decision_chain), '') != ''") }}
            as has_decision_chain,
        coalesce(outcomes.is_won_in_history, false) as is_won,
        outcomes.closed_date_in_history as closed_date
    from pipeline
    inner join stage_entries
        on
            pipeline.opportunity_id = stage_entries.opportunity_id
            and pipeline.stage = stage_entries.stage
            and pipeline.pipeline_date >= stage_entries.entered_date
            and pipeline.pipeline_date <= stage_entries.valid_to
    inner join opportunities on pipeline.opportunity_id = opportunities.opportunity_id
    left join stage_p90 on pipeline.stage = stage_p90.stage
    left join recent_activity
        on
            pipeline.pipeline_date = recent_activity.pipeline_date
            and pipeline.opportunity_id = recent_activity.opportunity_id
    left join trials on pipeline.opportunity_id = trials.opportunity_id
    left join outcomes on pipeline.opportunity_id = outcomes.opportunity_id
    cross join applicability
)

select * from features
