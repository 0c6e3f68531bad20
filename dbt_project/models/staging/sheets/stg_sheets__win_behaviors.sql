-- 赢单行为: one row per behaviour x keyword. The evidence kind and the match are read in
-- either language (资料/material, 动作/action; 有/present, 无/absent); anything else stays
-- null and fails the staging tests, naming the sheet's value.
with

source as (
    select * from {{ optional_source('sheets', 'dict_win_behaviors', {
        'behavior': 'varchar', 'evidence': 'varchar', 'keyword': 'varchar',
        'path_step': 'varchar', 'anchor_stage': 'varchar', 'window_start_hours': 'bigint',
        'window_end_hours': 'bigint', 'match': 'varchar'}) }}
),

renamed as (
    select
        trim(cast(behavior as varchar)) as behavior,
        trim(cast(evidence as varchar)) as evidence,
        case
            when lower(trim(cast(evidence as varchar))) in ('资料', 'material') then 'material'
            when lower(trim(cast(evidence as varchar))) in ('动作', 'action') then 'action'
        end as evidence_kind,
        trim(cast(keyword as varchar)) as keyword,
        nullif(trim(cast(path_step as varchar)), '') as path_step,
        nullif(trim(cast(anchor_stage as varchar)), '') as anchor_stage,
        coalesce(cast(window_start_hours as integer), 0) as window_start_hours,
        cast(window_end_hours as integer) as window_end_hours,
        coalesce(
            lower(nullif(trim(cast(match as varchar)), '')) in ('无', 'absent'), false
        ) as is_absence,
        coalesce(lower(nullif(trim(cast(match as varchar)), '')), '有') in (
            '有', 'present', '无', 'absent'
        ) as has_known_match
    from source
    where nullif(trim(cast(keyword as varchar)), '') is not null
)

select * from renamed
