with

source as (
    select * from {{ source('crm', 'leads') }}
),

renamed as (
    select
        id as lead_id,
        owner_id,
        created_by_id,
        converted_account_id,
        converted_contact_id,
        converted_opportunity_id,
        name as lead_name,
        company as company_name,
        title,
        -- phones never leave staging in clear: leads are matched to WeCom by this hash
        {{ dbt.hash(regexp_replace_all('mobile_phone', '[^0-9]', '')) }} as mobile_phone_hash,
        lead_source,
        landing_page_c as landing_page,
        status as lead_status,
        industry,
        state,
        city,
        coalesce(is_converted, false) as is_converted,
        coalesce(is_deleted, false) as is_deleted,
        converted_date,
        created_date as created_at,
        system_modstamp as modified_at
    from source
)

select * from renamed
