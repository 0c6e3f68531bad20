-- The kinds of evidence (ContentVersion's evidence type) each CRM record has attached, deleted
-- files left out: the one definition of "the stage's evidence is there" that fct_stage_history
-- (has_evidence) and dq_findings (stage_without_evidence) both read.
with

content_versions as (
    select * from {{ ref('stg_crm__content_versions') }}
),

evidence as (
    select distinct
        linked_record_id,
        evidence_type
    from content_versions
    where not is_deleted
)

select * from evidence
