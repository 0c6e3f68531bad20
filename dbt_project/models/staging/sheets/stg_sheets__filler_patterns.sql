with

source as (
    select * from {{ source('sheets', 'dict_filler_patterns') }}
),

renamed as (
    select trim(cast(pattern as varchar)) as pattern
    from source
)

select * from renamed
