-- Truthfulness findings on leads (SPEC §6): the same phone and company entered again within
-- 30 days.
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

lead_copies as (
    select
        lead_id,
        owner_id,
        created_at,
        first_value(lead_id) over (
            partition by mobile_phone_hash, company_name order by created_at, lead_id
        ) as original_id,
        first_value(created_at) over (
            partition by mobile_phone_hash, company_name order by created_at, lead_id
        ) as original_created_at,
        row_number() over (
            partition by mobile_phone_hash, company_name order by created_at, lead_id
        ) as copy_no
    from leads
    where not is_deleted and mobile_phone_hash is not null
),

duplicate_lead as (
    select
        'duplicate_lead' as rule,
        'low' as severity,
        'leads' as source_table,
        lead_id as record_id,
        owner_id,
        {{ json_object({'duplicate_of': 'original_id'}) }} as details
    from lead_copies
    where
        copy_no > 1
        and {{ seconds_between('original_created_at', 'created_at') }} <= 30 * 86400
),

final as (
    select * from duplicate_lead
)

select * from final
