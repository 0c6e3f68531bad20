-- Open alerts: open opportunities without a substantive, trusted activity for more than
-- stagnation_alert_days (warning; escalate beyond stagnation_escalate_days), to the rep and
-- the rep's manager.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

activities as (
    select * from {{ ref('int_activities_classified') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

current_stage as (
    select
        opportunity_id,
        stage
    from stage_history
    where exited_at is null
),

last_progress as (
    select
        what_id as opportunity_id,
        max(occurred_at) as last_substantive_at
    from activities
    where is_substantive and is_trusted and occurred_at <= {{ as_of_end() }}
    group by what_id
),

open_deals as (
    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.owner_id,
        current_stage.stage,
        coalesce(last_progress.last_substantive_at, opportunities.created_at) as since,
        {{ seconds_between(
            'coalesce(last_progress.last_substantive_at, opportunities.created_at)',
            as_of_end()) }} / 86400.0 as idle_days
    from opportunities
    inner join current_stage on opportunities.opportunity_id = current_stage.opportunity_id
    left join last_progress on opportunities.opportunity_id = last_progress.opportunity_id
    where
        not opportunities.is_closed
        and not opportunities.is_deleted
        and current_stage.stage <> 'lost'
        and opportunities.created_at <= {{ as_of_end() }}
),

final as (
    select
        'stagnation:' || open_deals.opportunity_id as alert_id,
        'stagnation' as alert_type,
        reps.rep_id,
        reps.manager_id,
        open_deals.opportunity_id as entity_id,
        reps.region,
        case
            when open_deals.idle_days > settings.stagnation_escalate_days then 'escalate'
            else 'warning'
        end as severity,
        open_deals.stage,
        '商机「' || open_deals.opportunity_name || '」已 '
        || cast(cast(floor(open_deals.idle_days) as integer) as varchar)
        || ' 天没有实质跟进' as message,
        open_deals.idle_days,
        open_deals.since
    from open_deals
    cross join settings
    left join reps on open_deals.owner_id = reps.crm_user_id
    where open_deals.idle_days > settings.stagnation_alert_days
)

select * from final
