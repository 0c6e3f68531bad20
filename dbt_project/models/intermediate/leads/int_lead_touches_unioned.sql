-- Every recorded touch of a lead, from every source that has one: CRM tasks and events on
-- the lead, and WeCom messages a rep sent to the lead's mobile (when WeCom is loaded).
-- Deleted records and open tasks are not touches.
with

tasks as (
    select * from {{ ref('stg_crm__tasks') }}
),

events as (
    select * from {{ ref('stg_crm__events') }}
),

wecom_messages as (
    select * from {{ ref('int_wecom_messages_joined_to_leads') }}
),

crm_tasks as (
    select
        task_id as touch_id,
        who_id as lead_id,
        owner_id as user_id,
        'crm_task' as touch_source,
        completed_at as touched_at
    from tasks
    where
        who_id like '00Q%'
        and is_closed
        and not is_deleted
        and completed_at is not null
),

crm_events as (
    select
        event_id as touch_id,
        who_id as lead_id,
        owner_id as user_id,
        'crm_event' as touch_source,
        started_at as touched_at
    from events
    where who_id like '00Q%' and not is_deleted and started_at is not null
),

unioned as (
    select * from crm_tasks
    union all
    select * from crm_events
    union all
    select
        touch_id,
        lead_id,
        user_id,
        touch_source,
        touched_at
    from wecom_messages
)

select * from unioned
