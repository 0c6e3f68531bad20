-- 线索评分: points per lead behaviour (negative for a bad sign).
with

source as (
    select * from {{ optional_source('sheets', 'scoring_behaviors', {
        'behavior': 'string', 'points': 'bigint'}) }}
),

renamed as (
    select
        trim(cast(behavior as string)) as behavior,
        cast(points as integer) as points
    from source
)

select * from renamed
