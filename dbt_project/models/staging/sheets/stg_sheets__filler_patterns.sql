with

source as (
    select * from {{ optional_source('sheets', 'dict_filler_patterns', {
        'pattern': 'string'}) }}
),

renamed as (
    select trim(cast(pattern as string)) as pattern
    from source
)

select * from renamed
