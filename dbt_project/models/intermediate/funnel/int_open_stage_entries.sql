-- Entries of an open stage, each with the open stage entered before it. Lost has no place in
-- the stage order, so it is left out of the sequence: a deal reopened after lost is measured
-- against the last stage it had reached, and a stage entered again right after lost counts
-- once. Read by int_stage_skips (a skip) and int_findings__stages (a stage newly reached
-- without its evidence).
with

entries as (
    select * from {{ ref('int_stage_entries_sequenced') }}
),

final as (
    select
        opportunity_history_id,
        opportunity_id,
        created_by_id,
        stage,
        required_evidence,
        stage_order,
        entered_at,
        lag(stage) over (
            partition by opportunity_id order by entered_at, opportunity_history_id
        ) as previous_stage,
        lag(stage_order) over (
            partition by opportunity_id order by entered_at, opportunity_history_id
        ) as previous_order
    from entries
    where stage <> 'lost'
)

select * from final
