-- Every scored lead with its response: the lead's grade, owner and outcome (fct_lead_scores)
-- beside its first touch (fct_lead_response). Routing and its backtest read leads this way.
with

scores as (
    select * from {{ ref('fct_lead_scores') }}
),

responses as (
    select * from {{ ref('fct_lead_response') }}
),

final as (
    select
        scores.lead_id,
        scores.rep_id,
        scores.region,
        scores.industry,
        scores.grade,
        scores.score,
        scores.is_open,
        scores.is_converted,
        responses.first_touch_at,
        responses.response_hours,
        responses.touched_within_72h
    from scores
    inner join responses on scores.lead_id = responses.lead_id
)

select * from final
