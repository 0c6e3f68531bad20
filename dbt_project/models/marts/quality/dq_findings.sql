-- Truthfulness findings (SPEC §6): one row per rule x source record, with the evidence.
-- Thresholds come from the settings sheet. A finding is data: the metrics that must not
-- trust a record exclude it by joining here. Each family of rules is its own model
-- (intermediate/findings/int_findings__<family>); this mart unions them and names the rep.
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

final as (
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
)

select * from final
