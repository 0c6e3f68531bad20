-- WeCom messages a rep sent to a lead's mobile: touches of that lead. The customer is the
-- WeCom external contact whose saved mobile (hashed) equals the lead's mobile (hashed).
with

messages as (
    select * from {{ ref('stg_wecom__chat_messages') }}
),

contacts as (
    select * from {{ ref('stg_wecom__external_contacts') }}
),

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

customer_mobiles as (
    select distinct
        external_userid,
        mobile_phone_hash
    from contacts
),

joined as (
    select
        messages.message_id as touch_id,
        leads.lead_id,
        reps.crm_user_id as user_id,
        'wecom_message' as touch_source,
        messages.sent_at as touched_at
    from messages
    inner join reps on messages.sender_id = reps.wecom_userid
    inner join customer_mobiles on messages.recipient_id = customer_mobiles.external_userid
    inner join leads on customer_mobiles.mobile_phone_hash = leads.mobile_phone_hash
)

select * from joined
