-- 赢单行为: one row per behaviour x keyword. The evidence kind and the match are read in
-- either language (资料/material, 动作/action; 有/present, 无/absent); anything else stays
-- null and fails the staging tests, naming the sheet's value.
with

source as (
    select * from {{ optional_source('sheets', 'dict_win_behaviors', {
        'behavior': 'string', 'evidence': 'string', 'keyword': 'string',
        'path_step': 'string', 'anchor_stage': 'string', 'window_start_hours': 'bigint',
        'window_end_hours': 'bigint', 'match': 'string'}) }}
),

renamed as (
    select
        trim(cast(behavior as string)) as behavior,
        trim(cast(evidence as string)) as evidence,
        case
            when lower(trim(cast(evidence as string))) in ('资料', 'material') then 'material'
            when lower(trim(cast(evidence as string))) in ('动作', 'action') then 'action'
        end as evidence_kind,
        trim(cast(keyword as string)) as keyword,
        nullif(trim(cast(path_step as string)), '') as path_step,
        nullif(trim(cast(anchor_stage as string)), '') as anchor_stage,
        coalesce(cast(window_start_hours as integer), 0) as window_start_hours,
        cast(window_end_hours as integer) as window_end_hours,
        coalesce(
            lower(nullif(trim(cast(match as string)), '')) in ('无', 'absent'), false
        ) as is_absence,
        coalesce(lower(nullif(trim(cast(match as string)), '')), '有') in (
            '有', 'present', '无', 'absent'
        ) as has_known_match
    from source
    where nullif(trim(cast(keyword as string)), '') is not null
)

select * from renamed
