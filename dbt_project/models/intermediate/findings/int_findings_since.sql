-- The instant from which the rule families count a record as changed, one row: the as-of end
-- of dq_findings' last run less late_arriving_days (settings sheet: how late a change may
-- arrive and still be re-examined). Null on a full examination (macros/findings.sql).
with

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

final as (
    select {{ findings_changed_since('settings.late_arriving_days') }} as changed_since
    from settings
)

select * from final
