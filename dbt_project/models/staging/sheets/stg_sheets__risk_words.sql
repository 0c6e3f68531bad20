with

source as (
    select * from {{ optional_source('sheets', 'dict_risk_words', {
        'keyword': 'varchar', 'risk_type': 'varchar', 'suggested_action': 'varchar',
        'risk_level': 'varchar'}) }}
),

renamed as (
    select
        trim(cast(keyword as varchar)) as keyword,
        trim(cast(risk_type as varchar)) as risk_type,
        trim(cast(suggested_action as varchar)) as suggested_action,
        -- 高 / 中 / 低 (or high / medium / low); blank = medium; anything else is kept as
        -- written and fails the accepted-values test
        case lower(coalesce(nullif(trim(cast(risk_level as varchar)), ''), 'medium'))
            when '高' then 'high'
            when '中' then 'medium'
            when '低' then 'low'
            else lower(trim(cast(coalesce(risk_level, 'medium') as varchar)))
        end as risk_level
    from source
    where nullif(trim(cast(keyword as varchar)), '') is not null
)

select * from renamed
