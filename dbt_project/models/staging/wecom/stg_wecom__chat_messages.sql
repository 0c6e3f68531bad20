-- Archived messages, one row per message and recipient (group chats fan out).
with

source as (
    select * from {{ optional_source('wecom', 'chat_messages', {
        'msgid': 'varchar', 'seq': 'bigint', 'sender': 'varchar', 'recipients': 'varchar',
        'roomid': 'varchar', 'msgtype': 'varchar', 'content': 'varchar',
        'msgtime': 'timestamp with time zone'}) }}
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
        unnest(string_split(coalesce(recipients, ''), ',')) as recipient
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
