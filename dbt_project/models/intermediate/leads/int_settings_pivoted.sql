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
            max(case when setting_name = 'idle_customer_days' then numeric_value end),
            10
        ) as idle_customer_days,
        coalesce(
            max(case when setting_name = 'material_window_hours' then numeric_value end),
            72
        ) as material_window_hours,
        coalesce(
            max(case when setting_name = 'deal_no_activity_days' then numeric_value end),
            14
        ) as deal_no_activity_days,
        coalesce(
            max(case when setting_name = 'close_push_alert_count' then numeric_value end),
            2
        ) as close_push_alert_count,
        coalesce(
            max(case when setting_name = 'single_thread_min_stage_order' then numeric_value end),
            3
        ) as single_thread_min_stage_order,
        coalesce(
            max(case when setting_name = 'health_window_days' then numeric_value end),
            30
        ) as health_window_days,
        coalesce(
            max(case when setting_name = 'health_weight_frequency' then numeric_value end),
            40
        ) as health_weight_frequency,
        coalesce(
            max(case when setting_name = 'health_weight_velocity' then numeric_value end),
            30
        ) as health_weight_velocity,
        coalesce(
            max(case when setting_name = 'health_weight_payment' then numeric_value end),
            30
        ) as health_weight_payment,
        coalesce(
            max(case when setting_name = 'health_red_below' then numeric_value end),
            60
        ) as health_red_below,
        coalesce(
            max(case when setting_name = 'late_arriving_days' then numeric_value end),
            3
        ) as late_arriving_days,
        coalesce(
            max(case when setting_name = 'empirical_min_closed' then numeric_value end),
            10
        ) as empirical_min_closed,
        coalesce(
            max(case when setting_name = 'alert_lookback_days' then numeric_value end),
            14
        ) as alert_lookback_days,
        coalesce(
            max(case when setting_name = 'freshness_max_hours' then numeric_value end),
            26
        ) as freshness_max_hours,
        coalesce(
            max(case when setting_name = 'freshness_max_hours_u8' then numeric_value end),
            max(case when setting_name = 'freshness_max_hours' then numeric_value end),
            26
        ) as freshness_max_hours_u8,
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
