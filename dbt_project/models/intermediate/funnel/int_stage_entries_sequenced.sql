-- Every stage an opportunity entered (consecutive repeats of a stage folded), in order, with
-- the canonical stage from the stage-config sheet, the stage before and the next entry.
-- A deleted opportunity is not a deal: its history is left out even where the history rows
-- are not marked deleted themselves (an export without queryAll, a partial delete), so the
-- stage history, pipeline, funnel, dwell and everything read from them leave it out too.
with

opportunity_history as (
    select * from {{ ref('stg_crm__opportunity_history') }}
),

stage_config as (
    select * from {{ ref('stg_sheets__stage_config') }}
),

deleted_opportunities as (
    select opportunity_id from {{ ref('stg_crm__opportunities') }}
    where is_deleted
),

mapped as (
    select
        opportunity_history.opportunity_history_id,
        opportunity_history.opportunity_id,
        opportunity_history.created_by_id,
        stage_config.stage,
        stage_config.required_evidence,
        stage_config.stage_order,
        stage_config.win_probability,
        opportunity_history.changed_at,
        lag(stage_config.stage) over (
            partition by opportunity_history.opportunity_id
            order by opportunity_history.changed_at, opportunity_history.opportunity_history_id
        ) as previous_stage_raw
    from opportunity_history
    inner join stage_config
        on opportunity_history.crm_stage_name = stage_config.crm_stage_name
    left join deleted_opportunities
        on opportunity_history.opportunity_id = deleted_opportunities.opportunity_id
    where not opportunity_history.is_deleted and deleted_opportunities.opportunity_id is null
),

entries as (
    select * from mapped
    where previous_stage_raw is null or previous_stage_raw <> stage
),

sequenced as (
    select
        opportunity_history_id,
        opportunity_id,
        created_by_id,
        stage,
        required_evidence,
        stage_order,
        win_probability,
        changed_at as entered_at,
        lag(stage) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
        ) as previous_stage,
        lag(stage_order) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
        ) as previous_order,
        lead(stage) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
        ) as next_stage,
        lead(stage_order) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
        ) as next_order,
        lead(changed_at) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
        ) as exited_at
    from entries
)

select * from sequenced
