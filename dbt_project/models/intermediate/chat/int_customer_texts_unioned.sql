-- What customers said that holds a dictionary keyword (int_customer_text_keywords), one row
-- per text: WeCom archived messages a customer sent (with the CRM account or lead the customer
-- is, the company the contact named and the rep written to) and CRM activity notes (the
-- descriptions of live tasks and events, with the deal, account and rep they belong to; a deal
-- the CRM deleted is none), so the chat-risk rules run on the CRM alone where WeCom is missing.
-- Who said it, to whom and about which deal are read afresh each run: they change while the
-- words do not. A table: the competitor mentions and the chat-risk signals both read it.
{{ config(materialized='table') }}

with

messages as (
    select * from {{ ref('stg_wecom__chat_messages') }}
),

wecom_people as (
    select * from {{ ref('int_wecom_contacts_to_crm') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

keywords as (
    select * from {{ ref('int_customer_text_keywords') }}
),

keyword_texts as (
    select distinct
        text_source,
        text_id
    from keywords
),

customer_messages as (
    select
        messages.message_id as text_id,
        'wecom' as text_source,
        wecom_people.account_id,
        wecom_people.lead_id,
        wecom_people.company_name,
        cast(null as string) as opportunity_id,
        reps.rep_id,
        messages.content as said_text,
        messages.sent_at as said_at
    from messages
    inner join keyword_texts
        on keyword_texts.text_source = 'wecom' and messages.message_id = keyword_texts.text_id
    inner join wecom_people on messages.sender_id = wecom_people.external_userid
    left join reps on messages.recipient_id = reps.wecom_userid
    where
        messages.message_type = 'text'
        and nullif(trim(messages.content), '') is not null
        and messages.sent_at <= {{ as_of_end() }}
),

crm_notes as (
    select
        activities.activity_id as text_id,
        'crm_note' as text_source,
        activities.account_id,
        cast(null as string) as lead_id,
        cast(null as string) as company_name,
        opportunities.opportunity_id,
        reps.rep_id,
        activities.description as said_text,
        activities.occurred_at as said_at
    from activities
    inner join keyword_texts
        on
            keyword_texts.text_source = 'crm_note'
            and activities.activity_id = keyword_texts.text_id
    left join opportunities
        on activities.what_id = opportunities.opportunity_id and not opportunities.is_deleted
    left join reps on activities.owner_id = reps.crm_user_id
    where
        activities.source_table in ('tasks', 'events')
        and not activities.is_deleted
        and nullif(trim(activities.description), '') is not null
        and activities.occurred_at <= {{ as_of_end() }}
),

unioned as (
    select * from customer_messages
    union all
    select * from crm_notes
)

select * from unioned
