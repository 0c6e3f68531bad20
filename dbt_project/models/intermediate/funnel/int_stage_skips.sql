-- Stage entries that skipped a stage (SPEC §4: stages may not be skipped): the stage entered
-- lies more than one step beyond the open stage entered before it (int_open_stage_entries:
-- moving to lost is no skip, and a deal reopened after lost is measured against the last
-- stage it had reached). The one definition fct_stage_history (skipped_from) and dq_findings
-- (stage_skip) both read.
with

open_entries as (
    select * from {{ ref('int_open_stage_entries') }}
),

final as (
    select
        opportunity_history_id as stage_entry_id,
        opportunity_id,
        created_by_id,
        stage,
        stage_order,
        previous_stage,
        previous_order
    from open_entries
    where stage_order > previous_order + 1
)

select * from final
