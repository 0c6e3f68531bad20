-- Archived messages, one row per message and recipient (group chats fan out).
with

source as (
    select * from {{ optional_source('wecom', 'chat_messages', {
        'msgid': 'string', 'seq': 'bigint', 'sender': 'string', 'recipients': 'string',
        'roomid': 'string', 'msgtype': 'string', 'content': 'string',
        'msgtime': timestamptz_type()}) }}
),

recipients as (
    select
        msgid,
        seq,
        sender,
        roomid,
        msgtype,
        content,
        msgtime,
        {{ split_to_rows("coalesce(recipients, '')", ',') }} as recipient
    from source
),

renamed as (
    select
        msgid as message_id,
        sender as sender_id,
        recipient as recipient_id,
        roomid as room_id,
        msgtype as message_type,
        content,
        seq,
        msgtime as sent_at
    from recipients
    where recipient <> ''
)

select * from renamed
