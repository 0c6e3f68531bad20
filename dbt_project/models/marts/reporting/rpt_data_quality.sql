-- The data-quality page: one row per finding, with the rep's name and region.
with

findings as (
    select * from {{ ref('dq_findings') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

final as (
    select
        findings.finding_id,
        findings.record_id,
        coalesce(findings.rep_id, '-') as rep_id,
        coalesce(reps.rep_name, '{{ unassigned() }}') as rep_name,
        coalesce(reps.region, '{{ unassigned() }}') as region,
        findings.rule,
        findings.severity,
        findings.source_table,
        findings.details,
        findings.detected_at,
        cast({{ to_local('findings.detected_at') }} as timestamp) as detected_local
    from findings
    left join reps on findings.rep_id = reps.rep_id
)

select * from final
