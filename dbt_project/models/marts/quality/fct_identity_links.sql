-- Identity resolution across systems (SPEC §3), one row per record x link it needs: whether
-- it found its counterpart, and how. The match-rate report (rpt_identity_match) counts these;
-- the unmatched rows are the work list for sales ops.
-- Incremental: every link is derived each run and a row written only where it differs from
-- the stored one (changed_rows): a record new or late, renamed, matched otherwise now (a lead
-- converted to a contact, an account given its U8 code, a rep's id corrected in the org
-- sheet); a link no longer derived (its record deleted, a source dropped) is retracted.
--   rep -> crm_user       the org sheet's CRM user id exists in the CRM (reps, not managers)
--   rep -> wecom_user     the org sheet's WeCom userid shows up in WeCom data
--   rep -> u8_person      the org sheet's U8 person code is a U8 person (职员)
--   crm_user -> rep       a CRM user owning records is in the org sheet
--   account -> u8_customer  an account with a won deal, by its U8 code, else by an unambiguous
--                           company name (int_accounts_matched_to_u8)
--   u8_customer -> account  a U8 customer has a CRM account
--   wecom_contact -> crm_person  by hashed mobile to a CRM contact, else to a lead
{{ config(**changed_rows_config('link_id', 'entity')) }}

with

reps as (
    select * from {{ ref('dim_rep') }}
),

customers as (
    select * from {{ ref('dim_customer') }}
),

users as (
    select * from {{ ref('stg_crm__users') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

wecom_people as (
    select * from {{ ref('int_wecom_contacts_to_crm') }}
),

external_contacts as (
    select * from {{ ref('stg_wecom__external_contacts') }}
),

messages as (
    select * from {{ ref('stg_wecom__chat_messages') }}
),

checkins as (
    select * from {{ ref('stg_wecom__checkins') }}
),

u8_customers as (
    select * from {{ ref('stg_u8__customers') }}
),

u8_persons as (
    select * from {{ ref('stg_u8__persons') }}
),

wecom_users as (
    select wecom_userid from external_contacts
    union
    select wecom_userid from checkins
    union
    select sender_id from messages
),

record_owners as (
    select owner_id from opportunities
    union
    select owner_id from leads
),

sales_people as (
    select *
    from reps
    where rep_role = 'rep'
),

-- each rep's id in each system the run has (the org sheet's columns) ...
rep_ids as (
    select
        rep_id,
        rep_name,
        'crm_user' as link,
        crm_user_id as system_id
    from sales_people
    union all
    select
        rep_id,
        rep_name,
        'wecom_user' as link,
        wecom_userid as system_id
    from sales_people
    where {{ 'true' if source_exists('wecom', 'external_contacts') else 'false' }}
    union all
    select
        rep_id,
        rep_name,
        'u8_person' as link,
        u8_person_code as system_id
    from sales_people
    where {{ 'true' if source_exists('u8', 'customer') else 'false' }}
),

-- ... and the ids each system knows
system_ids as (
    select
        'crm_user' as link,
        user_id as system_id
    from users
    union
    select
        'wecom_user' as link,
        wecom_userid as system_id
    from wecom_users
    union
    select
        'u8_person' as link,
        u8_person_code as system_id
    from u8_persons
),

rep_links as (
    select
        'rep' as entity,
        rep_ids.link,
        rep_ids.rep_id as record_id,
        rep_ids.rep_name as record_name,
        case when system_ids.system_id is not null then 'id' end as matched_by,
        cast(null as string) as reason
    from rep_ids
    left join system_ids
        on rep_ids.link = system_ids.link and rep_ids.system_id = system_ids.system_id
),

user_to_rep as (
    select
        'crm_user' as entity,
        'rep' as link,
        users.user_id as record_id,
        users.user_name as record_name,
        case when reps.rep_id is not null then 'id' end as matched_by,
        cast(null as string) as reason
    from users
    inner join record_owners on users.user_id = record_owners.owner_id
    left join reps on users.user_id = reps.crm_user_id
),

account_to_u8 as (
    select
        'account' as entity,
        'u8_customer' as link,
        customers.crm_account_id as record_id,
        customers.customer_name as record_name,
        case when customers.u8_match in ('code', 'name') then customers.u8_match end
            as matched_by,
        case when customers.u8_match = 'ambiguous_name' then 'ambiguous_name' end as reason
    from customers
    where
        customers.crm_account_id in (
            select opportunities.account_id from opportunities
            where opportunities.is_won and not opportunities.is_deleted
        )
        and {{ 'true' if source_exists('u8', 'customer') else 'false' }}
),

u8_to_account as (
    select
        'u8_customer' as entity,
        'account' as link,
        u8_customers.u8_customer_code as record_id,
        u8_customers.customer_name as record_name,
        max(case when customers.crm_account_id is not null then customers.u8_match end)
            as matched_by,
        cast(null as string) as reason
    from u8_customers
    left join customers on u8_customers.u8_customer_code = customers.u8_customer_code
    group by u8_customers.u8_customer_code, u8_customers.customer_name
),

wecom_to_crm as (
    select
        'wecom_contact' as entity,
        'crm_person' as link,
        external_userid as record_id,
        company_name as record_name,
        case
            when contact_id is not null then 'phone:contact'
            when lead_id is not null then 'phone:lead'
        end as matched_by,
        cast(null as string) as reason
    from wecom_people
),

unioned as (
    select * from rep_links
    union all
    select * from user_to_rep
    union all
    select * from account_to_u8
    union all
    select * from u8_to_account
    union all
    select * from wecom_to_crm
),

final as (
    select
        entity || '>' || link || ':' || record_id as link_id,
        entity,
        link,
        record_id,
        record_name,
        matched_by,
        reason,
        matched_by is not null as is_matched
    from unioned
)

{{ changed_rows('final', 'link_id', 'entity') }}
