-- Each opportunity's outcome as its stage history tells it: when it first entered a won stage
-- and when it first entered lost (empty when it never did), as instants and as days in the
-- business time zone. Won once a won stage is entered, whatever came before or after; closed
-- on the first of the two. The one reading of the outcome from the history: the win model's
-- label (fct_win_features), the forecasts' closed deals, the waterfall's wins and the close
-- instant of int_deals_closed (which keeps the CRM's closed and won flags beside it).
with

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

firsts as (
    select
        opportunity_id,
        min(case when stage in ({{ won_stages() }}) then entered_at end) as won_at,
        min(case when stage = 'lost' then entered_at end) as lost_at,
        min(case when stage in ({{ won_stages() }}) then entered_date end) as won_date,
        min(case when stage = 'lost' then entered_date end) as lost_date
    from stage_history
    group by opportunity_id
),

final as (
    select
        opportunity_id,
        won_at,
        lost_at,
        won_date,
        lost_date,
        won_date is not null as is_won_in_history,
        coalesce(won_date, lost_date) as closed_date_in_history
    from firsts
)

select * from final
