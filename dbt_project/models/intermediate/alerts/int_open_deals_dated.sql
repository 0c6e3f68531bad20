-- The open deals the alerts look at: open, not deleted, created by the as-of day and in an open
-- stage, with their current stage, last progress and last activity (a deal never worked counts
-- from its creation) and the days since each.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

activity_summary as (
    select * from {{ ref('int_opportunity_activity_summarized') }}
),

current_stage as (
    select
        opportunity_id,
        stage,
        stage_order,
        entered_at,
        dwell_days
    from stage_history
    where exited_at is null
),

open_deals as (
    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_id,
        opportunities.owner_id,
        opportunities.created_at,
        current_stage.stage,
        current_stage.stage_order,
        current_stage.entered_at as stage_entered_at,
        current_stage.dwell_days as stage_days
    from opportunities
    inner join current_stage on opportunities.opportunity_id = current_stage.opportunity_id
    where
        not opportunities.is_closed
        and not opportunities.is_deleted
        and current_stage.stage in ({{ open_stages() }})
        and opportunities.created_at <= {{ as_of_end() }}
),

dated_deals as (
    select
        open_deals.*,
        coalesce(activity_summary.last_progress_at, open_deals.created_at) as last_progress_at,
        coalesce(activity_summary.last_activity_at, open_deals.created_at) as last_activity_at,
        activity_summary.contacts_engaged
    from open_deals
    inner join activity_summary on open_deals.opportunity_id = activity_summary.opportunity_id
),

deals as (
    select
        *,
        {{ days_between('last_progress_at', as_of_end()) }} as progress_idle_days,
        {{ days_between('last_activity_at', as_of_end()) }} as activity_idle_days
    from dated_deals
)

select * from deals
