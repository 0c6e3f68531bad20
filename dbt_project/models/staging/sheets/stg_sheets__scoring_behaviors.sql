-- 线索评分: points per lead behaviour (negative for a bad sign), and the signal in the sources
-- that shows the behaviour (信号) with what it must match (匹配); see docs/sources.md.
with

source as (
    select * from {{ optional_source('sheets', 'scoring_behaviors', {
        'behavior': 'string', 'points': 'bigint', 'signal_type': 'string',
        'match_value': 'string'}) }}
),

renamed as (
    select
        trim(cast(behavior as string)) as behavior,
        lower(trim(cast(signal_type as string))) as signal_type,
        nullif(trim(cast(match_value as string)), '') as match_value,
        cast(points as integer) as points
    from source
)

select * from renamed
