-- customer_health_red: a customer with an open deal whose health is below health_red_below.
with

customer_health as (
    select * from {{ ref('fct_customer_health') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

customer_health_red as (
    select
        'customer_health_red' as alert_type,
        customer_health.crm_account_id as entity_id,
        reps.crm_user_id as owner_id,
        'warning' as severity,
        cast(null as string) as stage,
        '客户「' || customer_health.customer_name || '」健康度 '
        || cast(cast(round(customer_health.health_score) as integer) as string) || ' 分'
            as message,
        coalesce(customer_health.last_interaction_at, accounts.created_at) as since
    from customer_health
    inner join reps on customer_health.rep_id = reps.rep_id
    inner join accounts on customer_health.crm_account_id = accounts.account_id
    where customer_health.is_red
)

select * from customer_health_red
