-- One row per lead and scored behaviour: the first time the sources show the behaviour, with
-- its points from the scoring sheet (线索评分). A sheet row names the signal that shows it
-- (信号) and what must match (匹配):
--   lead_source / landing_page  the lead's source / landing page equals 匹配 (when created)
--   crm_activity                a CRM task or event on the lead whose subject or description
--                               holds 匹配 (campaign responses are logged this way too)
--   wecom_question              a WeCom message from the lead's contact that holds 匹配
--   wecom_reply                 any WeCom message from the lead's contact
--   no_reply_days               a rep's WeCom message the contact left unanswered 匹配 days
-- The lead's WeCom contact is the external contact whose saved mobile (hashed) equals the
-- lead's. Without WeCom the WeCom signals show nothing (rpt_lead_scores says which were
-- available). Nothing after the as-of day counts.
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

live_leads as (
    select
        lead_id,
        lead_source,
        landing_page,
        mobile_phone_hash,
        created_at
    from leads
    where not is_deleted and created_at <= {{ as_of_end() }}
),

lead_contacts as (
    select distinct
        live_leads.lead_id,
        contacts.external_userid
    from live_leads
    inner join contacts on live_leads.mobile_phone_hash = contacts.mobile_phone_hash
),

-- the contact's one-to-one messages, from it and to it: two equi-joins (one join on "sender
-- or recipient" is a nested loop over every message and contact)
direct_messages as (
    select * from messages
    where room_id is null or room_id = ''
),

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

next_inbound as (
    select
        outbound.lead_id,
        outbound.sent_at,
        min(inbound.sent_at) as answered_at
    from lead_messages as outbound
    left join lead_messages as inbound
        on
            outbound.lead_id = inbound.lead_id
            and inbound.is_inbound
            and outbound.sent_at < inbound.sent_at
    where not outbound.is_inbound
    group by outbound.lead_id, outbound.sent_at
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
        activities.who_id as lead_id,
        rules.behavior,
        rules.signal_type,
        rules.points,
        activities.occurred_at
    from activities
    inner join rules
        on
            rules.signal_type = 'crm_activity'
            and (
                {{ dbt.position('rules.match_value', "coalesce(activities.subject, '')") }} > 0
                or {{ dbt.position(
                    'rules.match_value', "coalesce(activities.description, '')"
                ) }} > 0
            )
    where
        activities.channel in ('crm_task', 'crm_event')
        and not activities.is_deleted
        and activities.who_id like '00Q%'
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

numbered as (
    select
        unioned.*,
        row_number() over (
            partition by unioned.lead_id, unioned.behavior order by unioned.occurred_at
        ) as occurrence_no
    from unioned
    inner join live_leads on unioned.lead_id = live_leads.lead_id
    where unioned.occurred_at <= {{ as_of_end() }}
),

first_occurrences as (
    select
        {{ dbt.hash(dbt.concat(['lead_id', "'|'", 'behavior'])) }} as lead_behavior_id,
        lead_id,
        behavior,
        signal_type,
        points,
        occurred_at
    from numbered
    where occurrence_no = 1
)

select * from first_occurrences
