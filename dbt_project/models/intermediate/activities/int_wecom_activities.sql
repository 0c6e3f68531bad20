-- WeCom work in the shape of CRM activities: what reps sent to customers in the chat archive
-- (text and files) and their field check-ins. A message reaches the CRM contact (or, before
-- conversion, the lead) whose mobile (hashed) is the external contact's; a check-in reaches
-- the account whose company it was made at (company_key of the picked location title).
with

messages as (
    select * from {{ ref('stg_wecom__chat_messages') }}
),

checkins as (
    select * from {{ ref('stg_wecom__checkins') }}
),

wecom_people as (
    select * from {{ ref('int_wecom_contacts_to_crm') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

-- one CRM person per external contact: the contact with that mobile, else the lead
people as (
    select
        external_userid,
        coalesce(contact_id, lead_id) as who_id,
        account_id
    from wecom_people
),

account_names as (
    select
        account_id,
        {{ company_key('account_name') }} as name_key,
        row_number() over (
            partition by {{ company_key('account_name') }} order by account_id
        ) as rn
    from accounts
    where not is_deleted
),

sent as (
    select
        messages.message_id as activity_id,
        'wecom_messages' as source_table,
        reps.crm_user_id as owner_id,
        people.who_id,
        cast(null as string) as what_id,
        people.account_id,
        case when messages.message_type = 'file' then 'WeCom文件' else 'WeCom消息' end
            as activity_type,
        cast(null as string) as subject,
        messages.content as description,
        cast(null as double) as duration_s,
        false as is_deleted,
        messages.sent_at as occurred_at,
        messages.sent_at as logged_at,
        messages.sent_at as changed_at
    from messages
    inner join reps on messages.sender_id = reps.wecom_userid
    left join people on messages.recipient_id = people.external_userid
),

checkins_keyed as (
    select
        *,
        {{ company_key('location_title') }} as name_key
    from checkins
),

field_checkins as (
    select
        'checkin:' || checkins.wecom_userid || ':'
        || {{ epoch_seconds_text('checkins.checked_in_at') }} as activity_id,
        'wecom_checkins' as source_table,
        reps.crm_user_id as owner_id,
        cast(null as string) as who_id,
        cast(null as string) as what_id,
        account_names.account_id,
        'WeCom打卡' as activity_type,
        checkins.location_title as subject,
        checkins.location_detail as description,
        cast(null as double) as duration_s,
        false as is_deleted,
        checkins.checked_in_at as occurred_at,
        checkins.checked_in_at as logged_at,
        checkins.checked_in_at as changed_at
    from checkins_keyed as checkins
    inner join reps on checkins.wecom_userid = reps.wecom_userid
    left join account_names
        on checkins.name_key = account_names.name_key and account_names.rn = 1
),

unioned as (
    select * from sent
    union all
    select * from field_checkins
)

select * from unioned
