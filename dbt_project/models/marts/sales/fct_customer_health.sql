-- Customer health (SPEC §5), one row per customer with an open opportunity as of the as-of
-- day, 0–100 from three parts weighted in the settings sheet; payment is left out of the
-- weighting for a customer who has won nothing yet. Red below health_red_below.
--   frequency: substantive, trusted interactions in the last health_window_days, against the
--              median of active customers (at or above the median = 1);
--   velocity:  the slowest open deal's days in its current stage against that stage's median
--              completed dwell (within the median = 1, twice the median = 0.5);
--   payment:   U8 receipts against the amount of the deals won before (capped at 1); left
--              out, with the received amount null, when U8's receipt amounts are blank or
--              missing (rpt_metric_applicability: actual_received), never read as unpaid.
with

customers as (
    select * from {{ ref('dim_customer') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

open_deals as (
    select * from {{ ref('int_open_deals') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

receipts as (
    select * from {{ ref('stg_u8__receipts') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

live_opportunities as (
    select *
    from opportunities
    where not is_deleted and created_at <= {{ as_of_end() }}
),

won as (
    select
        account_id,
        sum(amount) as won_amount
    from live_opportunities
    where is_won
    group by account_id
),

active as (
    select distinct account_id from open_deals
),

stage_medians as (
    select
        stage,
        percentile_cont(0.5) within group (order by dwell_days) as median_dwell_days
    from stage_history
    where exited_at is not null
    group by stage
),

velocity as (
    select
        open_deals.account_id,
        min(least(1.0, stage_medians.median_dwell_days / greatest(open_deals.stage_days, 0.01)))
            as velocity_score,
        max(open_deals.stage_days) as slowest_stage_days
    from open_deals
    inner join stage_medians on open_deals.stage = stage_medians.stage
    group by open_deals.account_id
),

interactions as (
    select
        active.account_id,
        count(activities.activity_id) as recent_interactions
    from active
    cross join settings
    left join activities
        on
            active.account_id = activities.account_id
            and activities.is_substantive
            and activities.is_trusted
            and not activities.is_deleted
            and activities.occurred_at <= {{ as_of_end() }}
            and activities.occurred_at > {{ dbt.dateadd(
                'day', '-1 * cast(settings.health_window_days as integer)', as_of_end()) }}
    group by active.account_id
),

last_interactions as (
    select
        account_id,
        max(occurred_at) as last_interaction_at
    from activities
    where
        is_substantive and is_trusted and not is_deleted
        and occurred_at <= {{ as_of_end() }}
    group by account_id
),

interaction_median as (
    select
        percentile_cont(0.5) within group (order by recent_interactions)
            as median_interactions
    from interactions
),

paid as (
    select
        receipts.u8_customer_code,
        sum(receipts.amount) as received_amount
    from receipts
    where receipts.receipt_date <= {{ as_of_date() }}
    group by receipts.u8_customer_code
),

applicability as (
    {{ metric_applicability('actual_received') }}
),

parts as (
    select
        customers.customer_id,
        customers.crm_account_id,
        customers.customer_name,
        customers.owner_rep_id as rep_id,
        customers.region,
        interactions.recent_interactions,
        last_interactions.last_interaction_at,
        case
            when interaction_median.median_interactions > 0
                then least(
                    1.0, interactions.recent_interactions / interaction_median.median_interactions
                )
            when interactions.recent_interactions > 0 then 1.0
            else 0.0
        end as frequency_score,
        velocity.velocity_score,
        velocity.slowest_stage_days,
        won.won_amount,
        {{ when_applicable('coalesce(paid.received_amount, 0)') }} as received_amount,
        case
            when applicability.is_applicable and won.won_amount > 0
                then least(1.0, coalesce(paid.received_amount, 0) / won.won_amount)
        end as payment_score,
        settings.health_weight_frequency as w_frequency,
        settings.health_weight_velocity as w_velocity,
        settings.health_weight_payment as w_payment,
        settings.health_red_below
    from active
    inner join customers on active.account_id = customers.crm_account_id
    inner join interactions on active.account_id = interactions.account_id
    cross join interaction_median
    cross join settings
    cross join applicability
    left join last_interactions on active.account_id = last_interactions.account_id
    left join velocity on active.account_id = velocity.account_id
    left join won on active.account_id = won.account_id
    left join paid on customers.u8_customer_code = paid.u8_customer_code
),

final as (
    select
        customer_id,
        crm_account_id,
        customer_name,
        rep_id,
        region,
        recent_interactions,
        last_interaction_at,
        cast(frequency_score as double) as frequency_score,
        cast(velocity_score as double) as velocity_score,
        cast(slowest_stage_days as double) as slowest_stage_days,
        cast(won_amount as decimal(18, 2)) as won_amount,
        cast(received_amount as decimal(18, 2)) as received_amount,
        cast(payment_score as double) as payment_score,
        cast(
            100.0 * (
                w_frequency * frequency_score
                + coalesce(w_velocity * velocity_score, 0)
                + coalesce(w_payment * payment_score, 0)
            )
            / (
                w_frequency
                + case when velocity_score is null then 0 else w_velocity end
                + case when payment_score is null then 0 else w_payment end
            ) as double
        ) as health_score,
        health_red_below
    from parts
)

select
    *,
    health_score < health_red_below as is_red
from final
