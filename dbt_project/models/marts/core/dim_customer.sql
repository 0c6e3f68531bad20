-- One row per customer: CRM accounts, matched to U8 by the account's U8 code or, where sales
-- ops left it blank, by an unambiguous company name (int_accounts_matched_to_u8); plus U8
-- customers the CRM never saw.
with

accounts as (
    select * from {{ ref('int_accounts_matched_to_u8') }}
),

u8_customers as (
    select * from {{ ref('stg_u8__customers') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

crm_customers as (
    select
        accounts.account_id as customer_id,
        accounts.account_id as crm_account_id,
        accounts.u8_customer_code,
        accounts.account_name as customer_name,
        reps.rep_id as owner_rep_id,
        reps.region,
        accounts.industry,
        accounts.u8_match
    from accounts
    left join reps on accounts.owner_id = reps.crm_user_id
    where not accounts.is_deleted
),

u8_only as (
    select
        'u8:' || u8_customers.u8_customer_code as customer_id,
        cast(null as string) as crm_account_id,
        u8_customers.u8_customer_code,
        u8_customers.customer_name,
        reps.rep_id as owner_rep_id,
        reps.region,
        cast(null as string) as industry,
        cast(null as string) as u8_match
    from u8_customers
    left join reps on u8_customers.u8_person_code = reps.u8_person_code
    where u8_customers.u8_customer_code not in (
        select crm_customers.u8_customer_code from crm_customers
        where crm_customers.u8_customer_code is not null
    )
),

final as (
    select * from crm_customers
    union all
    select * from u8_only
)

select * from final
