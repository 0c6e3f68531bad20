-- What each closed deal sent and did, matched to the win-behaviour sheet: one row per deal x
-- evidence record x sheet row whose keyword the record's text holds. Materials are the CRM
-- files attached to the opportunity and the files reps sent on WeCom to the account while the
-- deal was open; actions are the CRM tasks and events on the opportunity and the WeCom
-- messages reps sent to the account while it was open. Nothing after the close counts.
-- A table: the behaviours (int_deal_behaviors) and the win paths (rpt_win_paths) both read it.
{{ config(materialized='table') }}

with

deals as (
    select * from {{ ref('int_deals_closed') }}
),

content_versions as (
    select * from {{ ref('stg_crm__content_versions') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

behaviors as (
    select * from {{ ref('stg_sheets__win_behaviors') }}
),

crm_files as (
    select
        deals.opportunity_id,
        content_versions.content_version_id as record_id,
        'material' as evidence_kind,
        coalesce(content_versions.title, '') as evidence_text,
        content_versions.created_at as occurred_at
    from content_versions
    inner join deals on content_versions.linked_record_id = deals.opportunity_id
    where not content_versions.is_deleted and content_versions.created_at <= deals.closed_at
),

-- activities linked to the deal, and those on its account with no deal while it was open: two
-- equi-joins (one join on "deal or account" is a nested loop over every activity and deal)
linked_activities as (
    select
        activities.what_id as opportunity_id,
        activities.activity_id,
        activities.activity_type,
        activities.subject,
        activities.description,
        activities.occurred_at,
        deals.closed_at
    from activities
    inner join deals on activities.what_id = deals.opportunity_id
    where
        not activities.is_deleted
        and activities.channel in ('crm_task', 'crm_event', 'wecom_message')
    union all
    select
        deals.opportunity_id,
        activities.activity_id,
        activities.activity_type,
        activities.subject,
        activities.description,
        activities.occurred_at,
        deals.closed_at
    from activities
    inner join deals
        on
            activities.account_id = deals.account_id
            and activities.occurred_at >= deals.created_at
    where
        activities.what_id is null
        and not activities.is_deleted
        and activities.channel in ('crm_task', 'crm_event', 'wecom_message')
),

deal_activities as (
    select
        opportunity_id,
        activity_id as record_id,
        case
            when activity_type = 'WeCom文件' then 'material' else 'action'
        end as evidence_kind,
        {{ dbt.concat([
            "coalesce(subject, '')", "' '",
            "coalesce(description, '')"]) }} as evidence_text,
        occurred_at
    from linked_activities
    where occurred_at <= closed_at
),

evidence as (
    select * from crm_files
    union all
    select * from deal_activities
),

final as (
    select
        evidence.opportunity_id,
        evidence.record_id,
        behaviors.behavior,
        behaviors.keyword,
        behaviors.path_step,
        evidence.evidence_kind,
        evidence.occurred_at
    from evidence
    inner join behaviors
        on
            evidence.evidence_kind = behaviors.evidence_kind
            and {{ dbt.position('behaviors.keyword', 'evidence.evidence_text') }} > 0
)

select * from final
