-- The activity timeline (SPEC §5): CRM tasks and events, WeCom messages reps sent and field
-- check-ins, one row each, with what it is worth: substantive (an effective-action keyword
-- and not filler; a file sent or a check-in at a customer always is) and trusted (no
-- truthfulness finding on the record).
-- Incremental: a run classifies only the records not here yet (whatever their age: late
-- arrivals, a source added later), those changed within late_arriving_days of the newest
-- change already here (edits; deletions arrive as is_deleted), those whose links resolve
-- otherwise now (lead converted, account created, rep remapped) and those whose trust
-- changed (new or cleared findings); each replaces its row by activity_id. After a change of
-- a sheet it reads (the keyword sheets among them) the run rebuilds it from all history
-- (orchestration/defs/transform.py).
{{ config(
    materialized=upsert_materialization(),
    unique_key='activity_id',
    incremental_strategy=upsert_strategy(),
    on_schema_change='append_new_columns',
) }}

with

crm_activities as (
    select * from {{ ref('int_activities_unioned') }}
),

wecom_activities as (
    select * from {{ ref('int_wecom_activities') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

effective_actions as (
    select * from {{ ref('stg_sheets__effective_actions') }}
),

filler_patterns as (
    select * from {{ ref('stg_sheets__filler_patterns') }}
),

findings as (
    select * from {{ ref('dq_findings') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

crm_with_account as (
    select
        crm_activities.activity_id,
        crm_activities.source_table,
        crm_activities.owner_id,
        crm_activities.who_id,
        crm_activities.what_id,
        coalesce(opportunities.account_id, contacts.account_id) as account_id,
        crm_activities.activity_type,
        crm_activities.subject,
        crm_activities.description,
        crm_activities.duration_s,
        crm_activities.is_deleted,
        crm_activities.occurred_at,
        crm_activities.logged_at,
        crm_activities.changed_at
    from crm_activities
    left join opportunities on crm_activities.what_id = opportunities.opportunity_id
    left join contacts on crm_activities.who_id = contacts.contact_id
),

timeline as (
    select * from crm_with_account
    union all
    select
        activity_id,
        source_table,
        owner_id,
        who_id,
        what_id,
        account_id,
        activity_type,
        subject,
        description,
        duration_s,
        is_deleted,
        occurred_at,
        logged_at,
        changed_at
    from wecom_activities
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

-- re-read from here on (null: everything, as on the first run or a full refresh)
watermark as (
    select
        {% if is_incremental() -%}
            {{ dbt.dateadd(
                'day', '-1 * cast(settings.late_arriving_days as integer)',
                '(select max(existing.changed_at) from ' ~ this ~ ' as existing)') }}
        {%- else -%}
            cast(null as {{ timestamptz_type() }})
        {%- endif %} as reread_from
    from settings
),

-- records whose trust changed since they were classified: flagged now and stored as trusted
-- (or not stored yet), or stored as untrusted and flagged no more. Those flagged before and
-- now keep their row: re-classifying every flagged record each run rewrote ~100k rows at M.
trust_changed as (
    select findings.record_id as activity_id
    from findings
    {% if is_incremental() -%}
        left join {{ this }} as existing
            on findings.record_id = existing.activity_id and not existing.is_trusted
        where existing.activity_id is null
        union all
        select existing.activity_id
        from {{ this }} as existing
        left join findings on existing.activity_id = findings.record_id
        where not existing.is_trusted and findings.record_id is null
    {%- endif %}
),

to_classify as (
    select timeline.*
    from timeline
    cross join watermark
    {% if is_incremental() -%}
        left join reps as current_reps on timeline.owner_id = current_reps.crm_user_id
    {%- endif %}
    where
        watermark.reread_from is null
        {% if is_incremental() -%}
            -- not here yet, or its links resolve otherwise now, however old the record: a lead
            -- converted to a contact, an account created for a company, a CRM user mapped to
            -- another rep. A semi-join on the stored keys: only they are held in memory, not
            -- the timeline's texts (a join carrying them ran DuckDB out of its 1GB at M)
            or not exists (
                select 1
                from {{ this }} as existing
                where
                    existing.activity_id = timeline.activity_id
                    and existing.who_id is not distinct from timeline.who_id
                    and existing.what_id is not distinct from timeline.what_id
                    and existing.account_id is not distinct from timeline.account_id
                    and existing.rep_id is not distinct from current_reps.rep_id
            )
        {%- endif %}
        or timeline.changed_at >= watermark.reread_from
        or timeline.activity_id in (select trust_changed.activity_id from trust_changed)
),

keyword_hits as (
    select distinct to_classify.activity_id
    from to_classify
    inner join effective_actions
        on
            {{ dbt.position('effective_actions.keyword', "coalesce(to_classify.description, '')") }}
            > 0
),

filler_hits as (
    select distinct to_classify.activity_id
    from to_classify
    inner join filler_patterns
        on trim(coalesce(to_classify.description, '')) = filler_patterns.pattern
),

untrusted as (
    select distinct record_id
    from findings
),

final as (
    select
        to_classify.activity_id,
        case
            when to_classify.source_table = 'tasks' then 'crm_task'
            when to_classify.source_table = 'events' then 'crm_event'
            when to_classify.source_table = 'wecom_checkins' then 'wecom_checkin'
            else 'wecom_message'
        end as channel,
        to_classify.source_table,
        reps.rep_id,
        to_classify.owner_id,
        to_classify.who_id,
        to_classify.what_id,
        to_classify.account_id,
        to_classify.activity_type,
        to_classify.subject,
        to_classify.description,
        to_classify.duration_s,
        to_classify.occurred_at,
        to_classify.logged_at,
        to_classify.changed_at,
        to_classify.is_deleted,
        (
            to_classify.activity_type in ('WeCom文件', 'WeCom打卡')
            or keyword_hits.activity_id is not null
        )
        and filler_hits.activity_id is null as is_substantive,
        untrusted.record_id is null as is_trusted
    from to_classify
    left join keyword_hits on to_classify.activity_id = keyword_hits.activity_id
    left join filler_hits on to_classify.activity_id = filler_hits.activity_id
    left join untrusted on to_classify.activity_id = untrusted.record_id
    left join reps on to_classify.owner_id = reps.crm_user_id
)

select * from final
