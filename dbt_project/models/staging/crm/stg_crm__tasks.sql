with

source as (
    select * from {{ source('crm', 'tasks') }}
),

renamed as (
    select
        id as task_id,
        who_id,
        what_id,
        owner_id,
        created_by_id,
        subject,
        description,
        status as task_status,
        task_subtype,
        type as task_type,
        call_duration_in_seconds as call_duration_s,
        coalesce(is_closed, false) as is_closed,
        coalesce(is_deleted, false) as is_deleted,
        activity_date,
        completed_date_time as completed_at,
        created_date as created_at,
        system_modstamp as modified_at
    from source
)

select * from renamed
