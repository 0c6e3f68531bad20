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
        ) as followup_window_hours
    from typed
)

select * from pivoted
