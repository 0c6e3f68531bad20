-- response_red: a lead assigned within alert_lookback_days and untouched past
-- response_red_hours (escalated past the follow-up window).
with

lead_response as (
    select * from {{ ref('fct_lead_response') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

response_red as (
    select
        'response_red' as alert_type,
        lead_response.lead_id as entity_id,
        lead_response.crm_owner_id as owner_id,
        case
            when
                {{ hours_between('lead_response.assigned_at', as_of_end()) }}
                > settings.followup_window_hours
                then 'escalate'
            else 'warning'
        end as severity,
        cast(null as string) as stage,
        '线索分配后超过 ' || cast(cast(settings.response_red_hours as integer) as string)
        || ' 小时仍未跟进' as message,
        lead_response.assigned_at as since
    from lead_response
    cross join settings
    where
        lead_response.response_band = 'red'
        and lead_response.first_touch_at is null
        and not lead_response.converted
        and lead_response.assigned_at > {{ dbt.dateadd(
            'day', '-1 * cast(settings.alert_lookback_days as integer)', as_of_end()) }}
)

select * from response_red
