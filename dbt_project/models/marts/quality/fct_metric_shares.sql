-- The shares a silent input error moves (leads assigned, leads with a first touch, CRM accounts
-- matched to U8), one row per metric per build, appended: the plausibility suite compares the
-- latest build with the one before (expectations/suites/metric_shares.py). A metric with
-- nothing to count has no share that build.
{{ config(materialized='incremental', incremental_strategy='append') }}

with

lead_response as (
    select * from {{ ref('fct_lead_response') }}
),

customers as (
    select * from {{ ref('dim_customer') }}
),

u8_customers as (
    select * from {{ ref('stg_u8__customers') }}
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
    -- without U8 customers there is nothing to match: no share (adding U8 is no jump)
    where crm_account_id is not null and exists (select 1 from u8_customers)
),

final as (
    select
        metric || ':' || cast(current_timestamp as string) as metric_share_id,
        metric,
        numerator,
        denominator,
        cast(numerator as double) / nullif(denominator, 0) as metric_share,
        current_timestamp as measured_at
    from counted
)

select * from final
