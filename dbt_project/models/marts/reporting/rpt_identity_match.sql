-- Identity match rate per entity x link (see fct_identity_links): how many records, how
-- many found their counterpart in the other system, and by which method. WeCom contacts meet
-- CRM people by their saved mobiles: when WeCom's latest load delivered none (the contract's
-- follow_info.remark_mobiles missing or blank, rpt_metric_applicability: wecom_contact_match)
-- that link's counts and rate are null, never a rate of 0 (or of the mobiles an earlier load
-- left behind).
with

links as (
    select * from {{ ref('fct_identity_links') }}
),

applicability as (
    {{ metric_applicability('wecom_contact_match') }}
),

counted as (
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
),

wecom_not_applicable as (
    select
        'wecom_contact' as entity,
        'crm_person' as link,
        cast(null as bigint) as total_records,
        cast(null as bigint) as matched_records,
        cast(null as bigint) as unmatched_records,
        cast(null as double) as match_rate,
        cast(null as bigint) as matched_by_id,
        cast(null as bigint) as matched_by_name,
        cast(null as bigint) as matched_by_phone
    from applicability
    where
        not applicability.is_applicable
        and {{ 'true' if source_exists('wecom', 'external_contacts') else 'false' }}
),

final as (
    select counted.*
    from counted
    cross join applicability
    where
        applicability.is_applicable
        or not (counted.entity = 'wecom_contact' and counted.link = 'crm_person')
    union all
    select * from wecom_not_applicable
)

select * from final
