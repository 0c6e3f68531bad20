with

source as (
    select * from {{ source('crm', 'events') }}
),

renamed as (
    select
        id as event_id,
        who_id,
        what_id,
        owner_id,
        created_by_id,
        subject,
        description,
        type as event_type,
        location,
        duration_in_minutes,
        coalesce(is_all_day_event, false) as is_all_day_event,
        coalesce(is_deleted, false) as is_deleted,
        start_date_time as started_at,
        end_date_time as ended_at,
        created_date as created_at,
        system_modstamp as modified_at
    from source
)

select * from renamed
