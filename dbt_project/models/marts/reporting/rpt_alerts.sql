-- The alerts page: open alerts with the rep's and manager's names.
with

alerts as (
    select * from {{ ref('alerts') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

stage_labels as (
    select * from {{ ref('int_stage_labels') }}
),

final as (
    select
        alerts.alert_id,
        alerts.alert_type,
        case alerts.alert_type
            when 'stagnation' then '商机停滞'
            when 'deal_no_activity' then '商机无活动'
            when 'deal_stalled' then '阶段停留过久'
            when 'deal_single_threaded' then '单线联系'
            when 'deal_close_pushed' then '成交日反复推迟'
            when 'new_contact_no_material' then '新客户未发资料'
            when 'response_red' then '线索超时未跟进'
            when 'customer_health_red' then '客户健康度低'
            when 'competitor_price' then '竞品比价'
            when 'chat_risk' then '沟通高风险'
            else alerts.alert_type
        end as alert_label,
        alerts.entity_id,
        {{ region_and_rep('alerts') }},
        coalesce(managers.rep_name, '-') as manager_name,
        alerts.severity,
        alerts.stage,
        stage_labels.stage_label,
        alerts.message,
        cast(alerts.idle_days as double) as idle_days,
        alerts.since,
        cast({{ to_local('alerts.since') }} as timestamp) as since_local
    from alerts
    left join reps on alerts.rep_id = reps.rep_id
    left join reps as managers on alerts.manager_id = managers.rep_id
    left join stage_labels on alerts.stage = stage_labels.stage
)

select * from final
