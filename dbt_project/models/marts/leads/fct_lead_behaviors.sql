-- One row per lead and scored behaviour: the first time the sources show the behaviour, with
-- its points from the scoring sheet (线索评分). A sheet row names the signal that shows it
-- (信号) and what must match (匹配):
--   lead_source / landing_page  the lead's source / landing page equals 匹配 (when created)
--   crm_activity                a CRM task or event on the lead whose subject or description
--                               holds 匹配 (campaign responses are logged this way too)
--   wecom_question              a WeCom message from the lead's contact that holds 匹配
--   wecom_reply                 any WeCom message from the lead's contact
--   no_reply_days               a rep's WeCom message the contact left unanswered 匹配 days
-- The lead's WeCom contacts (wecom_contacts, on each of its rows) are the external contacts
-- whose saved mobile (hashed) equals the lead's. Without WeCom the WeCom signals show nothing
-- (rpt_lead_scores says which were available). Nothing after the as-of day counts.
-- Incremental: a run re-derives whole (its rows replaced, those no longer derived retracted)
-- only the leads the new data touches: a lead created, edited or deleted, a CRM task or event
-- on it changed or dated since the last run (or no longer there to show a stored row: moved
-- to another lead, deleted), a WeCom message to or from its contacts sent since then (or
-- whose no-reply window may have closed since then), its contacts resolving otherwise
-- (a saved mobile edited, a contact added). "Since the last run" is the newest stored
-- occurrence less late_arriving_days (settings sheet); an older late arrival waits for the
-- periodic full rebuild (runs.models_full_every_days). A stored row after the as-of day (an
-- earlier as-of day: a backfill) re-derives every lead. After a change of the scoring sheet
-- the run rebuilds it from all history (orchestration/defs/transform.py).
{{ config(
    materialized=upsert_materialization(),
    unique_key='lead_behavior_id',
    incremental_strategy=upsert_strategy(),
    on_schema_change='append_new_columns',
    post_hook="{{ retract_rows('occurred_at') }}",
) }}
-- depends_on: {{ ref('int_settings_pivoted') }}
{%- set crm_channels = "('crm_task', 'crm_event')" %}
{#- a table stored before it said the leads' WeCom contacts: every lead is derived again #}
{%- set stored_links = true %}
{%- if is_incremental() %}
    {%- set stored_columns = adapter.get_columns_in_relation(this)
        | map(attribute='name') | map('lower') | list %}
    {%- set stored_links = 'wecom_contacts' in stored_columns %}
{%- endif %}
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

rules as (
    select * from {{ ref('stg_sheets__scoring_behaviors') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

messages as (
    select * from {{ ref('stg_wecom__chat_messages') }}
),

contacts as (
    select * from {{ ref('stg_wecom__external_contacts') }}
),

all_live_leads as (
    select
        lead_id,
        lead_source,
        landing_page,
        mobile_phone_hash,
        created_at
    from leads
    where not is_deleted and created_at <= {{ as_of_end() }}
),

all_lead_contacts as (
    select distinct
        all_live_leads.lead_id,
        contacts.external_userid
    from all_live_leads
    inner join contacts on all_live_leads.mobile_phone_hash = contacts.mobile_phone_hash
),

lead_links as (
    select
        lead_id,
        {{ dbt.listagg('external_userid', "','", 'order by external_userid') }}
            as wecom_contacts
    from all_lead_contacts
    group by lead_id
),

-- the one-to-one messages (a message to a group is no lead's)
direct_messages as (
    select * from messages
    where room_id is null or room_id = ''
),

{% if is_incremental() %}
settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

stored as (
    select
        lead_behavior_id,
        lead_id,
        behavior,
        signal_type,
        points,
        occurred_at,
        {{ 'wecom_contacts' if stored_links else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
            as wecom_contacts
    from {{ this }}
),

-- the longest no-reply window of the sheet
no_reply_window as (
    select coalesce(max(cast(match_value as integer)), 0) as days
    from rules
    where signal_type = 'no_reply_days'
),

-- data changed or dated from here on is new to this run
watermark as (
    select
        {{ dbt.dateadd(
            'day', '-1 * cast(settings.late_arriving_days as integer)',
            '(select max(latest.occurred_at) from ' ~ this ~ ' as latest)') }}
            as changed_since,
        -- a rep's message sent from here on may have gone unanswered too long since
        {{ dbt.dateadd(
            'day',
            '-1 * cast(settings.late_arriving_days as integer) - no_reply_window.days',
            '(select max(latest.occurred_at) from ' ~ this ~ ' as latest)') }}
            as sent_since
    from settings
    cross join no_reply_window
),

-- the stored CRM rows a live task or event on the lead still shows
crm_evidence as (
    select distinct
        stored.lead_id,
        stored.behavior,
        stored.occurred_at
    from stored
    inner join activities
        on
            stored.lead_id = activities.who_id
            and stored.occurred_at = activities.occurred_at
    inner join rules
        on
            stored.behavior = rules.behavior
            and rules.signal_type = 'crm_activity'
    where
        stored.signal_type = 'crm_activity'
        and activities.channel in {{ crm_channels }}
        and not activities.is_deleted
        and (
            {{ dbt.position('rules.match_value', "coalesce(activities.subject, '')") }} > 0
            or {{ dbt.position('rules.match_value', "coalesce(activities.description, '')") }} > 0
        )
),

touched as (
    -- created, edited or deleted
    select leads.lead_id
    from leads
    cross join watermark
    where leads.modified_at >= watermark.changed_since or leads.created_at >= watermark.changed_since
    union
    -- stored but no longer live (deleted, gone from the export)
    select stored.lead_id
    from stored
    left join all_live_leads on stored.lead_id = all_live_leads.lead_id
    where all_live_leads.lead_id is null
    union
    -- a CRM task or event on it changed or dated since the last run
    select activities.who_id as lead_id
    from activities
    cross join watermark
    where
        activities.channel in {{ crm_channels }}
        and activities.who_id like '00Q%'
        and (
            activities.changed_at >= watermark.changed_since
            or activities.occurred_at >= watermark.changed_since
        )
    union
    -- a stored CRM row no task or event on the lead shows any more (moved, deleted, edited)
    select stored_crm.lead_id
    from stored as stored_crm
    left join crm_evidence
        on
            stored_crm.lead_id = crm_evidence.lead_id
            and stored_crm.behavior = crm_evidence.behavior
            and stored_crm.occurred_at = crm_evidence.occurred_at
    where stored_crm.signal_type = 'crm_activity' and crm_evidence.lead_id is null
    union
    -- its WeCom contacts resolve otherwise now (stored rows say which they were)
    select stored.lead_id
    from stored
    left join lead_links on stored.lead_id = lead_links.lead_id
    where stored.wecom_contacts is distinct from lead_links.wecom_contacts
    union
    -- linked to WeCom contacts, no row yet
    select lead_links.lead_id
    from lead_links
    left join stored on lead_links.lead_id = stored.lead_id
    where stored.lead_id is null
    union
    -- a message to or from its contacts since the last run (a reply, a question, a rep's
    -- message whose no-reply window may have closed)
    select all_lead_contacts.lead_id
    from direct_messages
    cross join watermark
    inner join all_lead_contacts
        on direct_messages.sender_id = all_lead_contacts.external_userid
    where direct_messages.sent_at >= watermark.sent_since
    union
    select all_lead_contacts.lead_id
    from direct_messages
    cross join watermark
    inner join all_lead_contacts
        on direct_messages.recipient_id = all_lead_contacts.external_userid
    where direct_messages.sent_at >= watermark.sent_since
    union
    -- an as-of day earlier than a stored row's (a backfill), or nothing stored: every lead
    select all_live_leads.lead_id
    from all_live_leads
    where
        exists (select 1 from stored where stored.occurred_at > {{ as_of_end() }})
        or not exists (select 1 from stored)
        or {{ 'false' if stored_links else 'true' }}
),

{% endif %}
-- the leads derived: the touched ones on an incremental run, all of them otherwise
live_leads as (
    select all_live_leads.*
    from all_live_leads
    {% if is_incremental() -%}
        inner join touched on all_live_leads.lead_id = touched.lead_id
    {%- endif %}
),

lead_contacts as (
    select all_lead_contacts.*
    from all_lead_contacts
    {% if is_incremental() -%}
        inner join touched on all_lead_contacts.lead_id = touched.lead_id
    {%- endif %}
),

lead_activities as (
    select activities.*
    from activities
    {% if is_incremental() -%}
        inner join touched on activities.who_id = touched.lead_id
    {%- endif %}
),

-- the contacts' one-to-one messages, from them and to them: two equi-joins (one join on
-- "sender or recipient" is a nested loop over every message and contact)
lead_messages as (
    select
        lead_contacts.lead_id,
        direct_messages.message_id,
        direct_messages.content,
        direct_messages.sent_at,
        true as is_inbound
    from direct_messages
    inner join lead_contacts on direct_messages.sender_id = lead_contacts.external_userid
    union all
    select
        lead_contacts.lead_id,
        direct_messages.message_id,
        direct_messages.content,
        direct_messages.sent_at,
        -- false, or unknown for a message without a sender (as the one join had it)
        direct_messages.sender_id = lead_contacts.external_userid as is_inbound
    from direct_messages
    inner join lead_contacts on direct_messages.recipient_id = lead_contacts.external_userid
    where
        direct_messages.sender_id is null
        or direct_messages.sender_id <> lead_contacts.external_userid
),

-- each rep's message and the first message from the lead strictly after it: the lead's messages
-- in time order, a message from the lead placed before a rep's sent at the same instant, so the
-- rows after a rep's message hold exactly the later ones (a join of every message to every
-- later one grew with the square of a conversation's length)
answers as (
    select
        lead_id,
        sent_at,
        is_inbound,
        min(case when is_inbound then sent_at end) over (
            partition by lead_id
            order by sent_at desc, case when is_inbound then 1 else 0 end
            rows between unbounded preceding and 1 preceding
        ) as answered_at
    from lead_messages
),

next_inbound as (
    select distinct
        lead_id,
        sent_at,
        answered_at
    from answers
    where not is_inbound
),

by_lead_field as (
    select
        live_leads.lead_id,
        rules.behavior,
        rules.signal_type,
        rules.points,
        live_leads.created_at as occurred_at
    from live_leads
    inner join rules
        on
            (rules.signal_type = 'lead_source' and live_leads.lead_source = rules.match_value)
            or (rules.signal_type = 'landing_page' and live_leads.landing_page = rules.match_value)
),

by_crm_activity as (
    select
        lead_activities.who_id as lead_id,
        rules.behavior,
        rules.signal_type,
        rules.points,
        lead_activities.occurred_at
    from lead_activities
    inner join rules
        on
            rules.signal_type = 'crm_activity'
            and (
                {{ dbt.position('rules.match_value', "coalesce(lead_activities.subject, '')") }} > 0
                or {{ dbt.position(
                    'rules.match_value', "coalesce(lead_activities.description, '')"
                ) }} > 0
            )
    where
        lead_activities.channel in {{ crm_channels }}
        and not lead_activities.is_deleted
        and lead_activities.who_id like '00Q%'
),

by_wecom_inbound as (
    select
        lead_messages.lead_id,
        rules.behavior,
        rules.signal_type,
        rules.points,
        lead_messages.sent_at as occurred_at
    from lead_messages
    inner join rules
        on
            rules.signal_type = 'wecom_reply'
            or (
                rules.signal_type = 'wecom_question'
                and {{ dbt.position(
                    'rules.match_value', "coalesce(lead_messages.content, '')"
                ) }} > 0
            )
    where lead_messages.is_inbound
),

by_no_reply as (
    select
        next_inbound.lead_id,
        rules.behavior,
        rules.signal_type,
        rules.points,
        {{ dbt.dateadd('day', 'cast(rules.match_value as integer)', 'next_inbound.sent_at') }}
            as occurred_at,
        next_inbound.answered_at
    from next_inbound
    inner join rules on rules.signal_type = 'no_reply_days'
),

unanswered as (
    select
        lead_id,
        behavior,
        signal_type,
        points,
        occurred_at
    from by_no_reply
    where answered_at is null or answered_at > occurred_at
),

unioned as (
    select * from by_lead_field
    union all
    select * from by_crm_activity
    union all
    select * from by_wecom_inbound
    union all
    select * from unanswered
),

-- the earliest of each signal first (a lead's every message is a signal), then the earliest
-- signal of each behavior among those
earliest as (
    select
        unioned.lead_id,
        unioned.behavior,
        unioned.signal_type,
        unioned.points,
        min(unioned.occurred_at) as occurred_at
    from unioned
    inner join live_leads on unioned.lead_id = live_leads.lead_id
    where unioned.occurred_at <= {{ as_of_end() }}
    group by unioned.lead_id, unioned.behavior, unioned.signal_type, unioned.points
),

numbered as (
    select
        earliest.*,
        -- ties in time go by signal and points: one answer, whichever leads a run derives
        row_number() over (
            partition by earliest.lead_id, earliest.behavior
            order by earliest.occurred_at, earliest.signal_type, earliest.points
        ) as occurrence_no
    from earliest
),

first_occurrences as (
    select
        {{ dbt.hash(dbt.concat(['numbered.lead_id', "'|'", 'numbered.behavior'])) }}
            as lead_behavior_id,
        numbered.lead_id,
        numbered.behavior,
        numbered.signal_type,
        numbered.points,
        numbered.occurred_at,
        lead_links.wecom_contacts
    from numbered
    left join lead_links on numbered.lead_id = lead_links.lead_id
    where numbered.occurrence_no = 1
)

select * from first_occurrences
{%- if is_incremental() %}
union all
-- a touched lead's stored row no longer derived: retracted (post_hook)
select
    stored.lead_behavior_id,
    stored.lead_id,
    stored.behavior,
    stored.signal_type,
    stored.points,
    cast(null as {{ timestamptz_type() }}) as occurred_at,
    stored.wecom_contacts
from stored
inner join touched on stored.lead_id = touched.lead_id
left join first_occurrences
    on stored.lead_behavior_id = first_occurrences.lead_behavior_id
where first_occurrences.lead_behavior_id is null
{%- endif %}
