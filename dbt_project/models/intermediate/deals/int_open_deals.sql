-- The deals open on the as-of day: not closed nor deleted in the CRM, created by then and in an
-- open stage, with the stay in it (entered, days so far). The one definition the alerts
-- (int_open_deals_dated) and customer health's velocity (fct_customer_health) read.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

final as (
    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_id,
        opportunities.owner_id,
        opportunities.created_at,
        stage_history.stage,
        stage_history.stage_order,
        stage_history.entered_at as stage_entered_at,
        stage_history.dwell_days as stage_days
    from opportunities
    inner join stage_history
        on
            opportunities.opportunity_id = stage_history.opportunity_id
            and stage_history.exited_at is null
    where
        not opportunities.is_closed
        and not opportunities.is_deleted
        and stage_history.stage in ({{ open_stages() }})
        and opportunities.created_at <= {{ as_of_end() }}
)

select * from final
