-- What each source lacks against its contract (ingest/contracts.py), for the data-quality
-- page: missing required or optional columns, columns blank in every row, missing objects,
-- unknown columns and files, and the metric each gap degrades. A source checked without a
-- finding shows one 'ok' row.
with

source_contract as (
    select * from {{ ref('stg_ops__source_contract') }}
),

final as (
    select
        finding_id,
        source_name,
        {{ source_label('source_name') }} as source_label,
        object_name,
        column_name,
        status,
        case status
            when 'missing_required' then '缺少必需字段'
            when 'missing_optional' then '缺少可选字段'
            when 'missing_object' then '缺少对象（按空表加载）'
            when 'empty' then '字段全部为空（按缺少计）'
            when 'unknown' then '未知字段/文件（保留）'
            else '完整'
        end as status_label,
        case status
            when 'missing_required' then 0
            when 'missing_object' then 1
            when 'missing_optional' then 2
            when 'empty' then 2
            when 'unknown' then 3
            else 4
        end as status_order,
        degrades,
        fix,
        checked_at
    from source_contract
)

select * from final
