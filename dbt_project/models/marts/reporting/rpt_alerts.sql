-- The alerts page: open alerts with the rep's and manager's names.
with

alerts as (
    select * from {{ ref('alerts') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

final as (
    select
        alerts.alert_id,
        alerts.alert_type,
        alerts.entity_id,
        coalesce(alerts.rep_id, '-') as rep_id,
        coalesce(reps.rep_name, '未知') as rep_name,
        coalesce(managers.rep_name, '-') as manager_name,
        coalesce(alerts.region, '未知') as region,
        alerts.severity,
        alerts.stage,
        alerts.message,
        cast(alerts.idle_days as double) as idle_days,
        alerts.since
    from alerts
    left join reps on alerts.rep_id = reps.rep_id
    left join reps as managers on alerts.manager_id = managers.rep_id
)

select * from final
