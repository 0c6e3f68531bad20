-- Every stage stay as the funnel pages show it: its region ('未分配' when none), rep ('-',
-- named '未分配', when none) and the stage's display name and order (the stage-config sheet).
with

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

stage_labels as (
    select * from {{ ref('int_stage_labels') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

final as (
    select
        stage_history.stage_entry_id,
        {{ region_and_rep('stage_history') }},
        stage_history.stage,
        coalesce(stage_labels.stage_label, stage_history.stage) as stage_label,
        stage_labels.stage_order,
        stage_history.entered_date,
        stage_history.advanced,
        stage_history.has_evidence,
        stage_history.dwell_days,
        stage_history.exited_at is not null as has_ended
    from stage_history
    left join reps on stage_history.rep_id = reps.rep_id
    left join stage_labels on stage_history.stage = stage_labels.stage
)

select * from final
