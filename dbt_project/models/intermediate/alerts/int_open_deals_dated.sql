-- The open deals the alerts look at (int_open_deals: open, not deleted, created by the as-of
-- day and in an open stage), with their current stage, last progress and last activity (a deal
-- never worked counts from its creation) and the days since each.
with

open_deals as (
    select * from {{ ref('int_open_deals') }}
),

activity_summary as (
    select * from {{ ref('int_opportunity_activity_summarized') }}
),

dated_deals as (
    select
        open_deals.opportunity_id,
        open_deals.opportunity_name,
        open_deals.account_id,
        open_deals.owner_id,
        open_deals.created_at,
        open_deals.stage,
        open_deals.stage_order,
        open_deals.stage_entered_at,
        open_deals.stage_days,
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
