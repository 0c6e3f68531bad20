-- Customer health for the BI pages: the score, its parts and the owner's name.
with

health as (
    select * from {{ ref('fct_customer_health') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

final as (
    select
        health.customer_id,
        health.customer_name,
        {{ region_and_rep('health') }},
        health.health_score,
        health.frequency_score,
        health.velocity_score,
        health.payment_score,
        health.recent_interactions,
        health.last_interaction_at,
        cast({{ to_local('health.last_interaction_at') }} as timestamp) as last_interaction_local,
        health.is_red
    from health
    left join reps on health.rep_id = reps.rep_id
)

select * from final
