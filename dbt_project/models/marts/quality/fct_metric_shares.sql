-- The shares a silent input error moves (leads assigned, leads with a first touch, CRM accounts
-- matched to U8), one row per metric per build, appended: the plausibility suite compares the
-- latest build with the one before (expectations/suites/metric_shares.py).
{{ config(materialized='incremental', incremental_strategy='append') }}

with

lead_response as (
    select * from {{ ref('fct_lead_response') }}
),

customers as (
    select * from {{ ref('dim_customer') }}
),

counted as (
    select
        'lead_assigned' as metric,
        count(assigned_at) as numerator,
        count(*) as denominator
    from lead_response
    union all
    select
        'lead_first_touch' as metric,
        count(first_touch_at) as numerator,
        count(*) as denominator
    from lead_response
    union all
    select
        'account_matched_to_u8' as metric,
        count(u8_customer_code) as numerator,
        count(*) as denominator
    from customers
    where crm_account_id is not null
),

final as (
    select
        metric || ':' || cast(current_timestamp as varchar) as metric_share_id,
        metric,
        numerator,
        denominator,
        cast(numerator as double) / nullif(denominator, 0) as metric_share,
        current_timestamp as measured_at
    from counted
)

select * from final
