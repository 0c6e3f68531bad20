-- The settings sheet as one row of typed thresholds. A missing setting falls back to the
-- SPEC §5 default.
with

settings as (
    select * from {{ ref('stg_sheets__settings') }}
),

typed as (
    select
        setting_name,
        try_cast(setting_value as double) as numeric_value
    from settings
),

pivoted as (
    select
        coalesce(
            max(case when setting_name = 'response_green_hours' then numeric_value end),
            12
        ) as response_green_hours,
        coalesce(
            max(case when setting_name = 'response_red_hours' then numeric_value end),
            24
        ) as response_red_hours,
        coalesce(
            max(case when setting_name = 'followup_window_hours' then numeric_value end),
            72
        ) as followup_window_hours,
        coalesce(
            max(case when setting_name = 'burst_min_records' then numeric_value end),
            10
        ) as burst_min_records,
        coalesce(
            max(case when setting_name = 'burst_window_minutes' then numeric_value end),
            60
        ) as burst_window_minutes,
        coalesce(
            max(case when setting_name = 'burst_span_days' then numeric_value end),
            2
        ) as burst_span_days,
        coalesce(
            max(case when setting_name = 'short_visit_seconds' then numeric_value end),
            40
        ) as short_visit_seconds,
        coalesce(
            max(case when setting_name = 'checkin_window_hours' then numeric_value end),
            2
        ) as checkin_window_hours,
        coalesce(
            max(case when setting_name = 'erp_mismatch_tolerance' then numeric_value end),
            0.01
        ) as erp_mismatch_tolerance,
        coalesce(
            max(case when setting_name = 'stagnation_alert_days' then numeric_value end),
            3
        ) as stagnation_alert_days,
        coalesce(
            max(case when setting_name = 'stagnation_escalate_days' then numeric_value end),
            7
        ) as stagnation_escalate_days,
        coalesce(
            max(case when setting_name = 'phi_weight_response' then numeric_value end),
            30
        ) as phi_weight_response,
        coalesce(
            max(case when setting_name = 'phi_weight_key_action' then numeric_value end),
            40
        ) as phi_weight_key_action,
        coalesce(
            max(case when setting_name = 'phi_weight_info' then numeric_value end),
            30
        ) as phi_weight_info
    from typed
)

select * from pivoted
