with

source as (
    select * from {{ optional_source('sheets', 'dict_competitors', {'competitor': 'varchar'}) }}
),

renamed as (
    select distinct trim(cast(competitor as varchar)) as competitor
    from source
    where nullif(trim(cast(competitor as varchar)), '') is not null
)

select * from renamed
