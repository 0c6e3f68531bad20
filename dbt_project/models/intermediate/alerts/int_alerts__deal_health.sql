-- Alerts on how an open deal moves: deal_stalled (longer in its stage than 90% of the deals
-- that left it, once five have), deal_single_threaded (at single_thread_min_stage_order or
-- later and worked with one contact at most) and deal_close_pushed (close date moved later
-- close_push_alert_count times or more).
with

deals as (
    select * from {{ ref('int_open_deals_dated') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

opportunity_history as (
    select * from {{ ref('stg_crm__opportunity_history') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

stage_p90 as (
    select
        stage,
        percentile_cont(0.9) within group (order by dwell_days) as p90_dwell_days,
        count(*) as completed
    from stage_history
    where exited_at is not null
    group by stage
),

deal_stalled as (
    select
        'deal_stalled' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'warning' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」在当前阶段已 '
        || cast(cast(floor(deals.stage_days) as integer) as string)
        || ' 天，超过 90% 同阶段商机（'
        || cast(cast(ceil(stage_p90.p90_dwell_days) as integer) as string) || ' 天）'
            as message,
        deals.stage_entered_at as since
    from deals
    inner join stage_p90 on deals.stage = stage_p90.stage
    where deals.stage_days > stage_p90.p90_dwell_days and stage_p90.completed >= 5
),

deal_single_threaded as (
    select
        'deal_single_threaded' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'info' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」已到后期阶段，只联系过 '
        || cast(deals.contacts_engaged as string) || ' 位客户联系人' as message,
        deals.stage_entered_at as since
    from deals
    cross join settings
    where
        deals.stage_order >= settings.single_thread_min_stage_order
        and deals.contacts_engaged <= 1
),

close_dates as (
    select
        opportunity_history.opportunity_id,
        opportunity_history.close_date,
        opportunity_history.changed_at,
        lag(opportunity_history.close_date) over (
            partition by opportunity_history.opportunity_id
            order by opportunity_history.changed_at, opportunity_history.opportunity_history_id
        ) as previous_close_date
    from opportunity_history
    where
        not opportunity_history.is_deleted
        and opportunity_history.changed_at <= {{ as_of_end() }}
),

pushes as (
    select
        opportunity_id,
        count(*) as times_pushed,
        max(changed_at) as last_pushed_at
    from close_dates
    where close_date > previous_close_date
    group by opportunity_id
),

deal_close_pushed as (
    select
        'deal_close_pushed' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'warning' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」预计成交日已推迟 '
        || cast(pushes.times_pushed as string) || ' 次' as message,
        pushes.last_pushed_at as since
    from deals
    inner join pushes on deals.opportunity_id = pushes.opportunity_id
    cross join settings
    where pushes.times_pushed >= settings.close_push_alert_count
),

unioned as (
    select * from deal_stalled
    union all
    select * from deal_single_threaded
    union all
    select * from deal_close_pushed
)

select * from unioned
