-- One row per day x open opportunity (before contract): its stage that day, amount, the
-- stage's win probability from the stage-config sheet, the weighted amount and the close
-- date the opportunity carried that day (OpportunityHistory).
-- Rebuilt from the stage history for any day: with vars partition_from / partition_to (a
-- Dagster daily partition or a backfill range) only those days are recomputed and replace
-- their rows; without them, every day up to as_of. Either way a day's rows come out the same.
{{ config(
    materialized='incremental',
    unique_key='pipeline_date',
    partition_by=replace_partitions_by('pipeline_date'),
    incremental_strategy=replace_partitions_strategy(),
    on_schema_change='fail',
) }}

with

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

close_dates as (
    select * from {{ ref('int_opportunity_close_dates') }}
),

days as (
    {% if var('partition_from', '') -%}
        {{ day_series(
            "cast('" ~ var('partition_from') ~ "' as date)",
            "cast('" ~ var('partition_to', var('partition_from')) ~ "' as date)",
        ) }}
    {%- else -%}
        {#- from well before any CRM in use (real exports reach back to the 2010s) #}
        {{ day_series("cast('2010-01-01' as date)", as_of_date()) }}
    {%- endif %}
),

open_stages as (
    select
        stage_history.opportunity_id,
        stage_history.rep_id,
        stage_history.region,
        stage_history.stage,
        stage_history.win_probability,
        stage_history.entered_date as valid_from,
        coalesce(
            cast({{ to_local('stage_history.exited_at') }} as date) - 1, {{ as_of_date() }}
        ) as valid_to
    from stage_history
    where stage_history.stage in ({{ open_stages() }})
),

daily as (
    select
        cast(days.date_day as date) as pipeline_date,
        open_stages.opportunity_id,
        open_stages.rep_id,
        open_stages.region,
        open_stages.stage,
        opportunities.amount,
        open_stages.win_probability,
        cast(opportunities.amount * open_stages.win_probability as decimal(18, 2))
            as weighted_amount,
        coalesce(close_dates.close_date, opportunities.close_date) as expected_close_date
    from open_stages
    inner join days
        on
            open_stages.valid_from <= cast(days.date_day as date)
            and open_stages.valid_to >= cast(days.date_day as date)
    inner join opportunities on open_stages.opportunity_id = opportunities.opportunity_id
    left join close_dates
        on
            open_stages.opportunity_id = close_dates.opportunity_id
            and close_dates.valid_from <= cast(days.date_day as date)
            and (
                close_dates.valid_to is null
                or close_dates.valid_to >= cast(days.date_day as date)
            )
)

select * from daily
