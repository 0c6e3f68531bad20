with

source as (
    select * from {{ optional_source('sheets', 'dict_effective_actions', {
        'keyword': 'string', 'activity_type': 'string'}) }}
),

renamed as (
    select
        trim(cast(keyword as string)) as keyword,
        trim(cast(activity_type as string)) as activity_type
    from source
)

select * from renamed
