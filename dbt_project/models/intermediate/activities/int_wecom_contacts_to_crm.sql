-- Each WeCom external contact with the CRM people it is (hashed mobile equal): the CRM contact
-- (the first by id when several share the mobile) with its account, and the lead (first by id).
with

external_contacts as (
    select * from {{ ref('stg_wecom__external_contacts') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

wecom_people as (
    select
        external_userid,
        max(mobile_phone_hash) as mobile_phone_hash,
        max(company_name) as company_name
    from external_contacts
    group by external_userid
),

contact_matches as (
    select
        wecom_people.external_userid,
        contacts.contact_id,
        contacts.account_id,
        row_number() over (
            partition by wecom_people.external_userid order by contacts.contact_id
        ) as rn
    from wecom_people
    inner join contacts
        on
            wecom_people.mobile_phone_hash = contacts.mobile_phone_hash
            and not contacts.is_deleted
),

lead_matches as (
    select
        wecom_people.external_userid,
        min(leads.lead_id) as lead_id
    from wecom_people
    inner join leads
        on
            wecom_people.mobile_phone_hash = leads.mobile_phone_hash
            and not leads.is_deleted
    group by wecom_people.external_userid
),

final as (
    select
        wecom_people.external_userid,
        wecom_people.company_name,
        contact_matches.contact_id,
        contact_matches.account_id,
        lead_matches.lead_id
    from wecom_people
    left join contact_matches
        on wecom_people.external_userid = contact_matches.external_userid and contact_matches.rn = 1
    left join lead_matches on wecom_people.external_userid = lead_matches.external_userid
)

select * from final
