-- One row per closed deal x behaviour of the win-behaviour sheet the deal could show: a
-- behaviour anchored on a stage applies to the deals that entered that stage before they
-- closed. has_behavior: evidence within the window (hours from the anchor; no end: until the
-- close) — or, for a behaviour of absence (判定 无), none.
-- A table: rpt_behavior_conversion reads it on both sides of a union, and inlined twice the
-- evidence match ran twice (over 20 minutes at scale M).
{{ config(materialized='table') }}

with

deals as (
    select * from {{ ref('int_deals_closed') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

evidence as (
    select * from {{ ref('int_deal_evidence_matched') }}
),

behavior_rows as (
    select * from {{ ref('stg_sheets__win_behaviors') }}
),

-- a behaviour's window and match (the sheet repeats them on each keyword row)
behaviors as (
    select
        behavior,
        max(anchor_stage) as anchor_stage,
        max(window_start_hours) as window_start_hours,
        max(window_end_hours) as window_end_hours,
        {{ dbt.bool_or('is_absence') }} as is_absence
    from behavior_rows
    group by behavior
),

stage_entries as (
    select
        opportunity_id,
        stage,
        min(entered_at) as entered_at
    from stage_history
    group by opportunity_id, stage
),

anchored as (
    select
        deals.opportunity_id,
        deals.region,
        deals.industry,
        deals.size_band,
        deals.is_won,
        deals.cycle_days,
        deals.closed_at,
        behaviors.behavior,
        behaviors.is_absence,
        {{ dbt.dateadd(
            'hour', 'behaviors.window_start_hours',
            'coalesce(stage_entries.entered_at, deals.created_at)') }} as window_from,
        case
            when behaviors.window_end_hours is not null
                then {{ dbt.dateadd(
                    'hour', 'behaviors.window_end_hours',
                    'coalesce(stage_entries.entered_at, deals.created_at)') }}
        end as window_to
    from deals
    cross join behaviors
    left join stage_entries
        on
            deals.opportunity_id = stage_entries.opportunity_id
            and behaviors.anchor_stage = stage_entries.stage
    where
        behaviors.anchor_stage is null
        or stage_entries.entered_at <= deals.closed_at
),

in_window as (
    select distinct
        anchored.opportunity_id,
        anchored.behavior
    from anchored
    inner join evidence
        on
            anchored.opportunity_id = evidence.opportunity_id
            and anchored.behavior = evidence.behavior
    where
        evidence.occurred_at >= anchored.window_from
        and (anchored.window_to is null or evidence.occurred_at <= anchored.window_to)
),

final as (
    select
        anchored.opportunity_id,
        anchored.behavior,
        anchored.region,
        anchored.industry,
        anchored.size_band,
        anchored.cycle_days,
        anchored.is_won,
        (in_window.opportunity_id is not null) <> anchored.is_absence as has_behavior
    from anchored
    left join in_window
        on
            anchored.opportunity_id = in_window.opportunity_id
            and anchored.behavior = in_window.behavior
)

select * from final
