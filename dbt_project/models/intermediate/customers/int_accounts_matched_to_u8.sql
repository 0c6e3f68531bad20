-- Every CRM account with its U8 customer (SPEC §3, identity resolution): the account's own U8
-- code when sales ops filled it in, else the one U8 customer whose company name reduces to the
-- same key (macro company_key: brackets, spaces and legal-form words ignored). A name key that
-- several U8 customers share matches none of them (u8_match 'ambiguous_name'): picking one
-- would send one company's revenue to another; it is left to sales ops to fill the code in.
-- u8_name_matches counts the U8 customers whose name reduces to the account's key.
-- A view rather than ephemeral, so that the rule has a unit test.
{{ config(materialized='view') }}

with

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

u8_customers as (
    select * from {{ ref('stg_u8__customers') }}
),

u8_names as (
    select
        {{ company_key('customer_name') }} as name_key,
        min(u8_customer_code) as u8_customer_code,
        count(*) as customers
    from u8_customers
    group by 1
),

matched as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.owner_id,
        accounts.industry,
        accounts.is_deleted,
        case
            when accounts.u8_customer_code is not null then accounts.u8_customer_code
            when u8_names.customers = 1 then u8_names.u8_customer_code
        end as u8_customer_code,
        case
            when accounts.u8_customer_code is not null then 'code'
            when u8_names.customers = 1 then 'name'
            when u8_names.customers > 1 then 'ambiguous_name'
        end as u8_match,
        coalesce(u8_names.customers, 0) as u8_name_matches
    from accounts
    left join u8_names
        on {{ company_key('accounts.account_name') }} = u8_names.name_key
)

select * from matched
