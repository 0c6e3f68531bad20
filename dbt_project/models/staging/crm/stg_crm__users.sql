with

source as (
    select * from {{ source('crm', 'users') }}
),

renamed as (
    select
        id as user_id,
        manager_id as manager_user_id,
        name as user_name,
        email,
        is_active,
        created_date as created_at,
        system_modstamp as modified_at
    from source
)

select * from renamed
