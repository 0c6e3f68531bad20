-- Activities with what they are worth: substantive (carries one of the effective-action
-- keywords and is not filler) and trusted (no truthfulness finding on the record).
with

activities as (
    select * from {{ ref('int_activities_unioned') }}
),

effective_actions as (
    select * from {{ ref('stg_sheets__effective_actions') }}
),

filler_patterns as (
    select * from {{ ref('stg_sheets__filler_patterns') }}
),

findings as (
    select * from {{ ref('dq_findings') }}
),

keyword_hits as (
    select distinct activities.activity_id
    from activities
    inner join effective_actions
        on strpos(coalesce(activities.description, ''), effective_actions.keyword) > 0
),

filler_hits as (
    select distinct activities.activity_id
    from activities
    inner join filler_patterns
        on trim(coalesce(activities.description, '')) = filler_patterns.pattern
),

untrusted as (
    select distinct record_id
    from findings
),

classified as (
    select
        activities.activity_id,
        activities.source_table,
        activities.owner_id,
        activities.who_id,
        activities.what_id,
        activities.activity_type,
        activities.subject,
        activities.description,
        activities.duration_s,
        activities.occurred_at,
        activities.logged_at,
        keyword_hits.activity_id is not null and filler_hits.activity_id is null
            as is_substantive,
        untrusted.record_id is null as is_trusted
    from activities
    left join keyword_hits on activities.activity_id = keyword_hits.activity_id
    left join filler_hits on activities.activity_id = filler_hits.activity_id
    left join untrusted on activities.activity_id = untrusted.record_id
    where not activities.is_deleted
)

select * from classified
