-- One row per customer x following rep x saved mobile, and one without a mobile for a customer
-- the rep saved none for (still a customer of that rep: alerts and the rep's WeCom id count it).
-- Mobiles leave staging only as a hash (the same hash stg_crm__leads computes), which is how
-- WeCom contacts meet CRM leads.
with

source as (
    select * from {{ optional_source('wecom', 'external_contacts', {
        'external_userid': 'string', 'userid': 'string', 'corp_name': 'string',
        'remark_mobiles': 'string', 'add_way': 'bigint',
        'createtime': timestamptz_type()}) }}
),

mobiles as (
    select
        external_userid,
        userid,
        corp_name,
        add_way,
        createtime,
        coalesce(remark_mobiles, '') = '' as has_no_mobile,
        {{ split_to_rows("coalesce(remark_mobiles, '')", ',') }} as mobile
    from source
),

renamed as (
    select
        external_userid,
        userid as wecom_userid,
        case
            when mobile <> '' then {{ dbt.hash(regexp_replace_all('mobile', '[^0-9]', '')) }}
        end as mobile_phone_hash,
        corp_name as company_name,
        add_way,
        createtime as added_at
    from mobiles
    where mobile <> '' or has_no_mobile
)

select * from renamed
