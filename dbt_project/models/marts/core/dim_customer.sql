-- One row per customer: CRM accounts, matched to U8 by the account's U8 code or, where sales
-- ops left it blank, by company name (macro company_key: brackets, spaces and legal-form
-- words like 有限公司/集团 ignored); plus U8 customers the
-- CRM never saw.
with

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

u8_customers as (
    select * from {{ ref('stg_u8__customers') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

u8_keyed as (
    select
        u8_customer_code,
        customer_name,
        u8_person_code,
        {{ company_key('customer_name') }} as name_key
    from u8_customers
),

crm_customers as (
    select
        accounts.account_id as customer_id,
        accounts.account_id as crm_account_id,
        coalesce(accounts.u8_customer_code, u8_keyed.u8_customer_code) as u8_customer_code,
        accounts.account_name as customer_name,
        reps.rep_id as owner_rep_id,
        reps.region,
        accounts.industry,
        case
            when accounts.u8_customer_code is not null then 'code'
            when u8_keyed.u8_customer_code is not null then 'name'
        end as u8_match
    from accounts
    left join u8_keyed
        on
            {{ company_key('accounts.account_name') }}
            = u8_keyed.name_key
    left join reps on accounts.owner_id = reps.crm_user_id
    where not accounts.is_deleted
),

u8_only as (
    select
        'u8:' || u8_keyed.u8_customer_code as customer_id,
        cast(null as varchar) as crm_account_id,
        u8_keyed.u8_customer_code,
        u8_keyed.customer_name,
        reps.rep_id as owner_rep_id,
        reps.region,
        cast(null as varchar) as industry,
        cast(null as varchar) as u8_match
    from u8_keyed
    left join reps on u8_keyed.u8_person_code = reps.u8_person_code
    where u8_keyed.u8_customer_code not in (
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
