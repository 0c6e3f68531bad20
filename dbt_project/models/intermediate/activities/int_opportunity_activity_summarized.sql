-- The one definition of a deal's last activity, used by the alerts and the open-pipeline page:
-- every live activity since the deal was created, on the deal itself or with its account and
-- tied to no deal (WeCom messages and check-ins reach the account, not the deal). Also the
-- last substantive, trusted activity (progress) and how many contacts were worked. Null when
-- the deal has had no activity at all. A table: the alerts and the open-pipeline page both read
-- it, and inlined each ran the join of every deal to every activity.
{{ config(materialized='table') }}

with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

deals as (
    select
        opportunity_id,
        account_id,
        created_at
    from opportunities
    where not is_deleted and created_at <= {{ as_of_end() }}
),

live_activities as (
    select *
    from activities
    where not is_deleted and occurred_at <= {{ as_of_end() }}
),

-- two equi-joins: one join on "deal or account" cannot use a hash join
deal_activities as (
    select
        deals.opportunity_id,
        live_activities.who_id,
        live_activities.occurred_at,
        live_activities.is_substantive and live_activities.is_trusted as is_progress
    from deals
    inner join live_activities
        on
            deals.opportunity_id = live_activities.what_id
            and deals.created_at <= live_activities.occurred_at
    union all
    select
        deals.opportunity_id,
        live_activities.who_id,
        live_activities.occurred_at,
        live_activities.is_substantive and live_activities.is_trusted as is_progress
    from deals
    inner join live_activities
        on
            deals.account_id = live_activities.account_id
            and deals.created_at <= live_activities.occurred_at
    where live_activities.what_id is null
),

summarized as (
    select
        deals.opportunity_id,
        max(case when deal_activities.is_progress then deal_activities.occurred_at end)
            as last_progress_at,
        max(deal_activities.occurred_at) as last_activity_at,
        count(distinct deal_activities.who_id) as contacts_engaged
    from deals
    left join deal_activities on deals.opportunity_id = deal_activities.opportunity_id
    group by deals.opportunity_id
)

select * from summarized
