with

source as (
    select * from {{ source('crm', 'accounts') }}
),

renamed as (
    select
        id as account_id,
        owner_id,
        nullif(trim(erp_customer_code_c), '') as u8_customer_code,
        name as account_name,
        industry,
        type as account_type,
        billing_state,
        billing_city,
        coalesce(is_deleted, false) as is_deleted,
        created_date as created_at
    from source
)

select * from renamed
