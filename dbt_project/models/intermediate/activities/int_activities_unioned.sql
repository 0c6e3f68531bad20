-- Every CRM activity record, tasks and events alike: when it happened (occurred_at, what the
-- rep claims), when it was logged (logged_at, the record's CreatedDate) and last changed.
with

tasks as (
    select * from {{ ref('stg_crm__tasks') }}
),

events as (
    select * from {{ ref('stg_crm__events') }}
),

task_activities as (
    select
        task_id as activity_id,
        'tasks' as source_table,
        owner_id,
        who_id,
        what_id,
        task_type as activity_type,
        subject,
        description,
        call_duration_s as duration_s,
        is_deleted,
        completed_at as occurred_at,
        created_at as logged_at,
        coalesce(modified_at, created_at) as changed_at
    from tasks
    where is_closed and completed_at is not null
),

event_activities as (
    select
        event_id as activity_id,
        'events' as source_table,
        owner_id,
        who_id,
        what_id,
        event_type as activity_type,
        subject,
        description,
        {{ seconds_between('started_at', 'ended_at') }} as duration_s,
        is_deleted,
        started_at as occurred_at,
        created_at as logged_at,
        coalesce(modified_at, created_at) as changed_at
    from events
    where started_at is not null
),

unioned as (
    select * from task_activities
    union all
    select * from event_activities
)

select * from unioned
