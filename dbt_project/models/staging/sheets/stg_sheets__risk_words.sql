with

source as (
    select * from {{ optional_source('sheets', 'dict_risk_words', {
        'keyword': 'string', 'risk_type': 'string', 'suggested_action': 'string',
        'risk_level': 'string'}) }}
),

renamed as (
    select
        trim(cast(keyword as string)) as keyword,
        trim(cast(risk_type as string)) as risk_type,
        trim(cast(suggested_action as string)) as suggested_action,
        -- 高 / 中 / 低 (or high / medium / low); blank = medium; anything else is kept as
        -- written and fails the accepted-values test
        case lower(coalesce(nullif(trim(cast(risk_level as string)), ''), 'medium'))
            when '高' then 'high'
            when '中' then 'medium'
            when '低' then 'low'
            else lower(trim(cast(coalesce(risk_level, 'medium') as string)))
        end as risk_level
    from source
    where nullif(trim(cast(keyword as string)), '') is not null
)

select * from renamed
