-- Truthfulness findings (SPEC §6): one row per rule x source record, with the evidence.
-- Thresholds come from the settings sheet. A finding is data: the metrics that must not
-- trust a record exclude it by joining here. Each family of rules is its own model
-- (intermediate/findings/int_findings__<family>); this mart unions them and names the rep.
-- Incremental (macros/findings.sql): a run re-examines the records changed since the last one
-- (late_arriving_days back), those whose evidence window overlaps them (burst_window_minutes,
-- checkin_window_hours, a deal's whole history) and every record flagged last time, and
-- replaces their findings by finding_id; a finding flagged last time and not found again goes
-- (it is written as a row without a rule, which the post-hook deletes). Everything is
-- examined again on a full refresh and every runs.models_full_every_days.
{{ config(
    materialized=upsert_materialization(),
    unique_key='finding_id',
    incremental_strategy=upsert_strategy(),
    on_schema_change='append_new_columns',
    post_hook="{{ findings_drop_cleared() }}",
) }}

with

reps as (
    select * from {{ ref('dim_rep') }}
),

findings as (
    select * from {{ ref('int_findings__activities') }}
    union all
    select * from {{ ref('int_findings__leads') }}
    union all
    select * from {{ ref('int_findings__stages') }}
    union all
    select * from {{ ref('int_findings__visits') }}
    union all
    select * from {{ ref('int_findings__erp') }}
),

found as (
    select
        findings.rule || ':' || findings.record_id as finding_id,
        findings.record_id,
        reps.rep_id,
        reps.manager_id,
        findings.rule,
        findings.severity,
        findings.source_table,
        findings.details,
        {{ as_of_end() }} as detected_at
    from findings
    left join reps on findings.owner_id = reps.crm_user_id
),

final as (
    select * from found
    {% if is_incremental() -%}
        -- findings of the last run not found again (their records were fixed or deleted)
        union all
        select
            previous.finding_id,
            previous.record_id,
            cast(null as string) as rep_id,
            cast(null as string) as manager_id,
            cast(null as string) as rule,
            cast(null as string) as severity,
            cast(null as string) as source_table,
            cast(null as string) as details,
            previous.detected_at
        from {{ this }} as previous
        left join found on previous.finding_id = found.finding_id
        where found.finding_id is null
    {%- endif %}
)

select * from final
