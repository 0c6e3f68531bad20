with

source as (
    select * from {{ source('sheets', 'settings') }}
),

renamed as (
    select
        lower(trim(cast(name as varchar))) as setting_name,
        trim(cast(value as varchar)) as setting_value,
        cast(description as varchar) as description
    from source
)

select * from renamed
