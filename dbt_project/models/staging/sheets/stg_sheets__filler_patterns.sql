with

source as (
    select * from {{ optional_source('sheets', 'dict_filler_patterns', {
        'pattern': 'varchar'}) }}
),

renamed as (
    select trim(cast(pattern as varchar)) as pattern
    from source
)

select * from renamed
