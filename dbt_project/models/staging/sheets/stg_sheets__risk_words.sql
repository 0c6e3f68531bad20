with

source as (
    select * from {{ optional_source('sheets', 'dict_risk_words', {
        'keyword': 'varchar', 'risk_type': 'varchar', 'suggested_action': 'varchar'}) }}
),

renamed as (
    select
        trim(cast(keyword as varchar)) as keyword,
        trim(cast(risk_type as varchar)) as risk_type,
        trim(cast(suggested_action as varchar)) as suggested_action
    from source
    where nullif(trim(cast(keyword as varchar)), '') is not null
)

select * from renamed
