with

source as (
    select * from {{ optional_source('sheets', 'dict_competitors', {'competitor': 'string'}) }}
),

renamed as (
    select distinct trim(cast(competitor as string)) as competitor
    from source
    where nullif(trim(cast(competitor as string)), '') is not null
)

select * from renamed
