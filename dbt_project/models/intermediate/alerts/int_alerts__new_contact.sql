-- new_contact_no_material: a WeCom customer added more than material_window_hours ago (and
-- within alert_lookback_days) who has had no file nor material message (the material,
-- proposal and quote keywords of the effective-actions sheet). The customer's WeCom id never
-- leaves the warehouse: a pseudonym stands for it.
with

external_contacts as (
    select * from {{ ref('stg_wecom__external_contacts') }}
),

messages as (
    select * from {{ ref('stg_wecom__chat_messages') }}
),

effective_actions as (
    select * from {{ ref('stg_sheets__effective_actions') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

material_keywords as (
    select keyword
    from effective_actions
    where activity_type in ('material', 'proposal', 'quote')
),

-- the customers the alert can be about: added within the look-back and longer ago than the
-- material window (the messages are searched for them alone)
new_contacts as (
    select
        external_contacts.external_userid,
        external_contacts.company_name,
        external_contacts.added_at,
        reps.crm_user_id,
        settings.material_window_hours
    from external_contacts
    inner join reps on external_contacts.wecom_userid = reps.wecom_userid
    cross join settings
    where
        external_contacts.added_at <= {{ as_of_end() }}
        and {{ hours_between('external_contacts.added_at', as_of_end()) }}
        > settings.material_window_hours
        and external_contacts.added_at > {{ dbt.dateadd(
            'day', '-1 * cast(settings.alert_lookback_days as integer)', as_of_end()) }}
),

material_sent as (
    select distinct messages.recipient_id as external_userid
    from messages
    inner join new_contacts on messages.recipient_id = new_contacts.external_userid
    inner join reps on messages.sender_id = reps.wecom_userid
    left join material_keywords
        on {{ dbt.position('material_keywords.keyword', "coalesce(messages.content, '')") }} > 0
    where
        messages.sent_at <= {{ as_of_end() }}
        and (messages.message_type = 'file' or material_keywords.keyword is not null)
),

new_contact_no_material as (
    select
        'new_contact_no_material' as alert_type,
        {{ pseudonym('wx_', 'new_contacts.external_userid') }} as entity_id,
        new_contacts.crm_user_id as owner_id,
        'warning' as severity,
        cast(null as string) as stage,
        '企业微信新客户（' || coalesce(new_contacts.company_name, '未知公司')
        || '）添加超过 ' || cast(cast(new_contacts.material_window_hours as integer) as string)
        || ' 小时仍未发送资料' as message,
        new_contacts.added_at as since
    from new_contacts
    left join material_sent
        on new_contacts.external_userid = material_sent.external_userid
    where material_sent.external_userid is null
)

select * from new_contact_no_material
