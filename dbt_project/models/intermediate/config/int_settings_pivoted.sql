-- The settings sheet as one row of typed thresholds. Every setting has a row: the loader fills
-- in the project's default (ingest/sheets/defaults/settings.csv, the one home of the SPEC §5–§6
-- defaults) for a setting the company's sheet leaves out or cannot be read as a number.
{%- set names = [
    'response_green_hours', 'response_red_hours', 'followup_window_hours',
    'burst_min_records', 'burst_window_minutes', 'burst_span_days', 'short_visit_seconds',
    'checkin_window_hours', 'erp_mismatch_tolerance', 'stagnation_alert_days',
    'stagnation_escalate_days', 'idle_customer_days', 'material_window_hours',
    'deal_no_activity_days', 'close_push_alert_count', 'single_thread_min_stage_order',
    'health_window_days', 'health_weight_frequency', 'health_weight_velocity',
    'health_weight_payment', 'health_red_below', 'late_arriving_days', 'empirical_min_closed',
    'alert_lookback_days', 'freshness_max_hours', 'freshness_max_hours_u8',
    'phi_weight_response', 'phi_weight_key_action', 'phi_weight_info',
    'win_model_min_closed', 'win_model_l2', 'win_model_activity_days',
    'behavior_min_n', 'deal_band_small_below', 'deal_band_large_from', 'win_path_top_n',
    'vague_commitment_window_days',
    'routing_load_max_visits', 'routing_load_window_days', 'routing_top_industries',
] %}
with

settings as (
    select * from {{ ref('stg_sheets__settings') }}
),

typed as (
    select
        setting_name,
        {{ dbt.safe_cast('setting_value', 'double') }} as numeric_value
    from settings
),

pivoted as (
    select
        {% for name in names -%}
            max(case when setting_name = '{{ name }}' then numeric_value end) as {{ name }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from typed
)

select * from pivoted
