-- 线索评分 / 阈值: the lowest score of each lead grade.
with

source as (
    select * from {{ optional_source('sheets', 'scoring_thresholds', {
        'grade': 'string', 'min_score': 'bigint'}) }}
),

renamed as (
    select
        trim(cast(grade as string)) as grade,
        cast(min_score as integer) as min_score
    from source
)

select * from renamed
