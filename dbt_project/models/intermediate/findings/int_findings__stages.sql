-- Truthfulness findings on stage changes (SPEC §4, §6): a stage skipped (int_stage_skips, the
-- one definition fct_stage_history shows too) and a stage entered without its evidence. A
-- rule over a deal's whole history: an incremental run of dq_findings (macros/findings.sql)
-- re-derives the findings of each deal with a stage change or evidence since the last run,
-- or flagged last time.
-- read on an incremental run only:
-- depends_on: {{ ref('int_findings_since') }}
-- depends_on: {{ ref('stg_crm__opportunity_history') }}
-- depends_on: {{ ref('stg_crm__content_versions') }}
{%- set incremental = findings_incremental() %}
with

evidence as (
    select * from {{ ref('int_opportunity_evidence') }}
),

open_stage_entries as (
    select * from {{ ref('int_open_stage_entries') }}
),

stage_skips as (
    select * from {{ ref('int_stage_skips') }}
),

{% if incremental -%}
opportunity_history as (
    select * from {{ ref('stg_crm__opportunity_history') }}
),

content_versions as (
    select * from {{ ref('stg_crm__content_versions') }}
),

-- the deals re-examined: a stage change or evidence since the last run, or flagged before
reexamined as (
    select opportunity_history.opportunity_id
    from opportunity_history
    cross join {{ ref('int_findings_since') }} as since
    where opportunity_history.changed_at >= since.changed_since
    union
    select content_versions.linked_record_id
    from content_versions
    cross join {{ ref('int_findings_since') }} as since
    where content_versions.created_at >= since.changed_since
    union
    select opportunity_history.opportunity_id
    from opportunity_history
    inner join {{ findings_previous() }} as previous
        on opportunity_history.opportunity_history_id = previous.record_id
),

{%- endif %}

-- entries of an open stage (a stage entered again right after lost counts once)
stage_entries as (
    select * from open_stage_entries
    where {{ findings_reexamined('opportunity_id', 'reexamined', 'opportunity_id') }}
),

stage_skip as (
    select
        'stage_skip' as rule,
        'high' as severity,
        'opportunity_history' as source_table,
        stage_entry_id as record_id,
        created_by_id as owner_id,
        {{ json_object({
            'opportunity_id': 'opportunity_id',
            'from_order': 'previous_order',
            'to_stage': 'stage',
        }) }} as details
    from stage_skips
    where {{ findings_reexamined('opportunity_id', 'reexamined', 'opportunity_id') }}
),

stage_without_evidence as (
    select
        'stage_without_evidence' as rule,
        'high' as severity,
        'opportunity_history' as source_table,
        stage_entries.opportunity_history_id as record_id,
        stage_entries.created_by_id as owner_id,
        {{ json_object({
            'opportunity_id': 'stage_entries.opportunity_id',
            'stage': 'stage_entries.stage',
            'required_evidence': 'stage_entries.required_evidence',
        }) }} as details
    from stage_entries
    left join evidence
        on
            stage_entries.opportunity_id = evidence.linked_record_id
            and stage_entries.required_evidence = evidence.evidence_type
    where
        stage_entries.required_evidence is not null
        and evidence.linked_record_id is null
        -- without ContentVersion in the export, evidence is unknown, not missing
        and not {{ 'true' if contract_missing('crm', 'ContentVersion') else 'false' }}
        and (
            stage_entries.previous_order is null
            or stage_entries.stage_order <> stage_entries.previous_order
        )
),

final as (
    select * from stage_skip
    union all
    select * from stage_without_evidence
)

select * from final
