-- Alerts on open deals left idle: stagnation (no substantive, trusted progress for more than
-- stagnation_alert_days, escalated past stagnation_escalate_days; WeCom work with the deal's
-- account counts as progress) and deal_no_activity (no activity at all for more than
-- deal_no_activity_days).
with

deals as (
    select * from {{ ref('int_open_deals_dated') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

stagnation as (
    select
        'stagnation' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        case
            when deals.progress_idle_days > settings.stagnation_escalate_days then 'escalate'
            else 'warning'
        end as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」已 '
        || cast(cast(floor(deals.progress_idle_days) as integer) as string)
        || ' 天没有实质跟进' as message,
        deals.last_progress_at as since
    from deals
    cross join settings
    where deals.progress_idle_days > settings.stagnation_alert_days
),

deal_no_activity as (
    select
        'deal_no_activity' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'warning' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」已 '
        || cast(cast(floor(deals.activity_idle_days) as integer) as string)
        || ' 天没有任何活动记录' as message,
        deals.last_activity_at as since
    from deals
    cross join settings
    where deals.activity_idle_days > settings.deal_no_activity_days
),

unioned as (
    select * from stagnation
    union all
    select * from deal_no_activity
)

select * from unioned
