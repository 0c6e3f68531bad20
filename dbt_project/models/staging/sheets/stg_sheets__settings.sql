with

source as (
    select * from {{ source('sheets', 'settings') }}
),

renamed as (
    select
        lower(trim(cast(name as string))) as setting_name,
        trim(cast(value as string)) as setting_value,
        cast(description as string) as description
    from source
)

select * from renamed
