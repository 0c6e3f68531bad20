with

source as (
    select * from {{ source('crm', 'lead_history') }}
),

renamed as (
    select
        id as lead_history_id,
        lead_id,
        created_by_id,
        field as field_name,
        old_value,
        new_value,
        coalesce(is_deleted, false) as is_deleted,
        created_date as changed_at
    from source
)

select * from renamed
