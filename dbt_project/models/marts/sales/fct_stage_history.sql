-- One row per opportunity x stage entered: when, for how long, with or without the stage's
-- evidence, and the stage it jumped from when stages were skipped (SPEC §4; int_stage_skips).
-- An export without ContentVersion (ops.source_contract) leaves has_evidence unknown (null),
-- never "no evidence".
-- Incremental: every entry is derived each run and a row written only where it differs from
-- the stored one (changed_rows): a late-arriving or edited stage change, a deleted one (the
-- entries around it re-sequenced), evidence attached later, an owner remapped to another rep
-- and the dwell of entries still open (it grows with the as-of day) all rewrite their rows;
-- an entry no longer derived is retracted.
{%- set no_evidence_source = 'true' if contract_missing('crm', 'ContentVersion') else 'false' %}
{{ config(**changed_rows_config('stage_entry_id', 'stage')) }}

with

entries as (
    select * from {{ ref('int_stage_entries_sequenced') }}
),

evidence as (
    select * from {{ ref('int_opportunity_evidence') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

stage_skips as (
    select * from {{ ref('int_stage_skips') }}
),

final as (
    select
        entries.opportunity_history_id as stage_entry_id,
        entries.opportunity_id,
        reps.rep_id,
        reps.region,
        entries.stage,
        entries.next_stage,
        stage_skips.previous_stage as skipped_from,
        entries.stage_order,
        entries.win_probability,
        {% set until = 'coalesce(entries.exited_at, ' ~ as_of_end() ~ ')' -%}
        {{ days_between('entries.entered_at', until) }} as dwell_days,
        case
            when entries.required_evidence is null then true
            when not {{ no_evidence_source }} then evidence.linked_record_id is not null
        end as has_evidence,
        coalesce(entries.next_order > entries.stage_order and entries.next_stage <> 'lost', false)
            as advanced,
        cast({{ to_local('entries.entered_at') }} as date) as entered_date,
        entries.entered_at,
        entries.exited_at
    from entries
    inner join opportunities on entries.opportunity_id = opportunities.opportunity_id
    left join reps on opportunities.owner_id = reps.crm_user_id
    left join stage_skips on entries.opportunity_history_id = stage_skips.stage_entry_id
    left join evidence
        on
            entries.opportunity_id = evidence.linked_record_id
            and entries.required_evidence = evidence.evidence_type
)

{{ changed_rows('final', 'stage_entry_id', 'stage') }}
