-- The open pipeline on the as-of day, one row per open opportunity: stage, days in it, amount
-- and weight, close date, last activity (int_opportunity_activity_summarized: on the deal or,
-- tied to no deal, with its account, WeCom included; as the alerts count it) and the open
-- alerts on it (the funnel drill-down to the deals stuck in a stage).
with

pipeline as (
    select * from {{ ref('fct_pipeline_daily') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

activity_summary as (
    select * from {{ ref('int_opportunity_activity_summarized') }}
),

alerts as (
    select * from {{ ref('alerts') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

stage_labels as (
    select * from {{ ref('int_stage_labels') }}
),

today as (
    {{ last_day_rows('pipeline') }}
),

current_stays as (
    select
        opportunity_id,
        dwell_days
    from stage_history
    where exited_at is null
),

alert_counts as (
    select
        entity_id as opportunity_id,
        count(*) as open_alerts
    from alerts
    group by entity_id
),

final as (
    select
        today.opportunity_id,
        opportunities.opportunity_name,
        {{ region_and_rep('today') }},
        today.stage,
        coalesce(stage_labels.stage_label, today.stage) as stage_label,
        stage_labels.stage_order,
        cast(current_stays.dwell_days as double) as days_in_stage,
        cast(today.amount as decimal(18, 2)) as amount,
        cast(today.weighted_amount as decimal(18, 2)) as weighted_amount,
        today.expected_close_date,
        activity_summary.last_activity_at,
        cast({{ to_local('activity_summary.last_activity_at') }} as timestamp)
            as last_activity_local,
        cast(coalesce(alert_counts.open_alerts, 0) as bigint) as open_alerts
    from today
    inner join opportunities on today.opportunity_id = opportunities.opportunity_id
    left join current_stays on today.opportunity_id = current_stays.opportunity_id
    left join activity_summary on today.opportunity_id = activity_summary.opportunity_id
    left join alert_counts on today.opportunity_id = alert_counts.opportunity_id
    left join reps on today.rep_id = reps.rep_id
    left join stage_labels on today.stage = stage_labels.stage
)

select * from final
