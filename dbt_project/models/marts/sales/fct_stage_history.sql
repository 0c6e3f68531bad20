-- One row per opportunity x stage entered: when, for how long, with or without the stage's
-- evidence, and the stage it jumped from when stages were skipped (SPEC §4; int_stage_skips).
-- An export without ContentVersion (ops.source_contract) leaves has_evidence unknown (null),
-- never "no evidence".
{%- set no_evidence_source = 'true' if contract_missing('crm', 'ContentVersion') else 'false' %}
with

entries as (
    select * from {{ ref('int_stage_entries_sequenced') }}
),

content_versions as (
    select * from {{ ref('stg_crm__content_versions') }}
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

evidence as (
    select distinct
        linked_record_id,
        evidence_type
    from content_versions
    where not is_deleted
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

select * from final
