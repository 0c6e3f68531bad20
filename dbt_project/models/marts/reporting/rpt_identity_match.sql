-- Identity match rate per entity x link (see fct_identity_links): how many records, how
-- many found their counterpart in the other system, and by which method.
with

links as (
    select * from {{ ref('fct_identity_links') }}
),

final as (
    select
        entity,
        link,
        cast(count(*) as bigint) as total_records,
        cast(sum(case when is_matched then 1 else 0 end) as bigint) as matched_records,
        cast(sum(case when is_matched then 0 else 1 end) as bigint) as unmatched_records,
        cast(avg(case when is_matched then 1 else 0 end) as double) as match_rate,
        cast(sum(case when matched_by in ('id', 'code') then 1 else 0 end) as bigint)
            as matched_by_id,
        cast(sum(case when matched_by = 'name' then 1 else 0 end) as bigint) as matched_by_name,
        cast(sum(case when matched_by like 'phone:%' then 1 else 0 end) as bigint)
            as matched_by_phone
    from links
    group by entity, link
)

select * from final
