-- WeCom daily customer-contact statistics per member (get_user_behavior_data); one row per
-- member and day. avg_reply_time is in minutes, reply_percentage in percent (0-100).
with

source as (
    select * from {{ optional_source('wecom', 'user_behavior_data', {
        'userid': 'string', 'stat_date': 'date', 'chat_cnt': 'bigint',
        'message_cnt': 'bigint', 'reply_percentage': 'double', 'avg_reply_time': 'double',
        'negative_feedback_cnt': 'bigint', 'new_apply_cnt': 'bigint',
        'new_contact_cnt': 'bigint'}) }}
),

renamed as (
    select
        userid as wecom_userid,
        cast(chat_cnt as integer) as chats,
        cast(message_cnt as integer) as messages,
        reply_percentage / 100.0 as reply_share,
        avg_reply_time as avg_reply_minutes,
        cast(negative_feedback_cnt as integer) as negative_feedbacks,
        cast(new_apply_cnt as integer) as new_applies,
        cast(new_contact_cnt as integer) as new_contacts,
        cast(stat_date as date) as stat_date
    from source
)

select * from renamed
