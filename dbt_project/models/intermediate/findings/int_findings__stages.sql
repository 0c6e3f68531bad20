-- Truthfulness findings on stage changes (SPEC §4, §6): a stage skipped (int_stage_skips, the
-- one definition fct_stage_history shows too) and a stage entered without its evidence.
with

opportunity_history as (
    select * from {{ ref('stg_crm__opportunity_history') }}
),

evidence as (
    select * from {{ ref('int_opportunity_evidence') }}
),

stage_config as (
    select * from {{ ref('stg_sheets__stage_config') }}
),

stage_skips as (
    select * from {{ ref('int_stage_skips') }}
),

-- entries of an open stage; a stage counts once however often it is saved again
stage_entries as (
    select
        opportunity_history.opportunity_history_id,
        opportunity_history.opportunity_id,
        opportunity_history.created_by_id,
        stage_config.stage,
        stage_config.required_evidence,
        stage_config.stage_order,
        opportunity_history.changed_at,
        lag(stage_config.stage_order) over (
            partition by opportunity_history.opportunity_id
            order by opportunity_history.changed_at, opportunity_history.opportunity_history_id
        ) as previous_order
    from opportunity_history
    inner join stage_config
        on opportunity_history.crm_stage_name = stage_config.crm_stage_name
    where not opportunity_history.is_deleted and stage_config.stage <> 'lost'
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
