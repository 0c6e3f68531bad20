-- Truthfulness findings on leads (SPEC §6): the same phone and company entered again within
-- 30 days. An incremental run of dq_findings (macros/findings.sql) re-examines the leads
-- sharing a phone with a lead changed since the last run or flagged last time.
-- read on an incremental run only:
-- depends_on: {{ ref('int_findings_since') }}
{%- set incremental = findings_incremental() %}
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

{% if incremental -%}
-- copies share a phone: the phones of changed and of flagged leads
reexamined_phones as (
    select leads.mobile_phone_hash
    from leads
    cross join {{ ref('int_findings_since') }} as since
    where coalesce(leads.modified_at, leads.created_at) >= since.changed_since
    union
    select leads.mobile_phone_hash
    from leads
    inner join {{ findings_previous() }} as previous
        on leads.lead_id = previous.record_id
),

{%- endif %}

lead_copies as (
    select
        lead_id,
        owner_id,
        created_at,
        first_value(lead_id) over copies as original_id,
        first_value(created_at) over copies as original_created_at,
        row_number() over copies as copy_no
    from leads
    where
        not is_deleted
        and mobile_phone_hash is not null
        and {{ findings_reexamined('mobile_phone_hash', 'reexamined_phones', 'mobile_phone_hash') }}
    window copies as (
        partition by mobile_phone_hash, company_name order by created_at, lead_id
    )
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
