with

source as (
    select * from {{ optional_source('sheets', 'dict_effective_actions', {
        'keyword': 'varchar', 'activity_type': 'varchar'}) }}
),

renamed as (
    select
        trim(cast(keyword as varchar)) as keyword,
        trim(cast(activity_type as varchar)) as activity_type
    from source
)

select * from renamed
