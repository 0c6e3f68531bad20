with

source as (
    select * from {{ source('crm', 'contacts') }}
),

renamed as (
    select
        id as contact_id,
        account_id,
        owner_id,
        name as contact_name,
        title,
        {{ dbt.hash(regexp_replace_all('mobile_phone', '[^0-9]', '')) }} as mobile_phone_hash,
        coalesce(is_deleted, false) as is_deleted,
        created_date as created_at
    from source
)

select * from renamed
