-- marts.fct_activities straight from the raw tables: CRM tasks and events, WeCom messages sent
-- by reps and their check-ins, each flagged substantive (keyword sheets) and trusted (no
-- truthfulness rule of dq_findings fires on it; only the rules on CRM activities can).
with

settings as (
    select
        coalesce(max(value) filter (where name = 'burst_min_records'), 10) as burst_min_records,
        coalesce(max(value) filter (where name = 'burst_window_minutes'), 60)
            as burst_window_minutes,
        coalesce(max(value) filter (where name = 'burst_span_days'), 2) as burst_span_days,
        coalesce(max(value) filter (where name = 'short_visit_seconds'), 40)
            as short_visit_seconds,
        coalesce(max(value) filter (where name = 'checkin_window_hours'), 2)
            as checkin_window_hours
    from (
        select
            lower(trim(cast(name as varchar))) as name,
            try_cast(trim(cast(value as varchar)) as double) as value
        from raw_sheets.settings
    )
),

reps as (
    select
        trim(cast(rep_id as varchar)) as rep_id,
        nullif(trim(cast(crm_user_id as varchar)), '') as crm_user_id,
        nullif(trim(cast(wecom_userid as varchar)), '') as wecom_userid
    from raw_sheets.org_reps
),

keywords as (
    select trim(cast(keyword as varchar)) as keyword
    from raw_sheets.dict_effective_actions
),

fillers as (
    select trim(cast(pattern as varchar)) as pattern
    from raw_sheets.dict_filler_patterns
),

-- what a company name loses to become its key, removed in this order
company_noise as (
    select [
        '（', '）', '(', ')', ' ', '　',
        '有限责任公司', '股份有限公司', '有限公司', '集团', '股份'
    ] as tokens
),

crm_activities as (
    select
        id as activity_id,
        'tasks' as source_table,
        owner_id,
        who_id,
        what_id,
        type as activity_type,
        subject,
        description,
        cast(call_duration_in_seconds as double) as duration_s,
        coalesce(is_deleted, false) as is_deleted,
        completed_date_time as occurred_at,
        created_date as logged_at,
        coalesce(system_modstamp, created_date) as changed_at
    from raw_crm.tasks
    where is_closed and completed_date_time is not null
    union all
    select
        id,
        'events',
        owner_id,
        who_id,
        what_id,
        type,
        subject,
        description,
        epoch(end_date_time) - epoch(start_date_time),
        coalesce(is_deleted, false),
        start_date_time,
        created_date,
        coalesce(system_modstamp, created_date)
    from raw_crm.events
    where start_date_time is not null
),

live as (
    select *
    from crm_activities
    where not is_deleted
),

-- backfill burst: each record opens a window of burst_window_minutes (logged_at, same
-- owner); a window qualifies with enough records whose claimed times span enough days, and
-- every record logged inside a qualifying window is a member
burst_windows as (
    select
        live.activity_id,
        live.owner_id,
        live.logged_at,
        settings.burst_window_minutes,
        count(*) over ahead >= settings.burst_min_records
        and epoch(max(live.occurred_at) over ahead) - epoch(min(live.occurred_at) over ahead)
        >= settings.burst_span_days * 86400 as qualifies
    from live
    cross join settings
    where live.owner_id is not null and live.logged_at is not null
    window ahead as (
        partition by live.owner_id
        order by live.logged_at
        range between current row
        and to_minutes(cast(settings.burst_window_minutes as bigint)) following
    )
),

burst_members as (
    select activity_id
    from burst_windows
    qualify bool_or(qualifies) over (
        partition by owner_id
        order by logged_at
        range between to_minutes(cast(burst_window_minutes as bigint)) preceding and current row
    )
),

visits as (
    select
        live.activity_id,
        live.owner_id,
        live.occurred_at,
        coalesce(leads.company, accounts.name) as company_name
    from live
    left join raw_crm.leads as leads on live.who_id = leads.id
    left join raw_crm.contacts as contacts on live.who_id = contacts.id
    left join raw_crm.accounts as accounts on contacts.account_id = accounts.id
    where live.source_table = 'events' and live.activity_type = '拜访'
),

-- each check-in verifies the nearest visit of its rep to the company it was made at
verified_visits as (
    select distinct activity_id
    from (
        select
            visits.activity_id,
            row_number() over (
                partition by checkins.userid, checkins.checkin_time
                order by
                    abs(epoch(checkins.checkin_time) - epoch(visits.occurred_at)),
                    visits.activity_id
            ) as nearness
        from visits
        cross join settings
        inner join reps on visits.owner_id = reps.crm_user_id
        inner join raw_wecom.checkins as checkins
            on
                reps.wecom_userid = checkins.userid
                and visits.company_name = trim(checkins.location_title)
                and abs(epoch(checkins.checkin_time) - epoch(visits.occurred_at))
                <= settings.checkin_window_hours * 3600
    )
    where nearness = 1
),

untrusted as (
    select activity_id from burst_members
    union
    -- short visit
    select live.activity_id
    from live
    cross join settings
    where
        live.source_table = 'events'
        and live.activity_type = '拜访'
        and live.duration_s < settings.short_visit_seconds
    union
    -- future timestamp
    select activity_id
    from live
    where occurred_at > timezone('Asia/Shanghai', timestamp '{as_of} 23:59:59')
    union
    -- activity before its lead existed
    select live.activity_id
    from live
    inner join raw_crm.leads as leads
        on live.who_id = leads.id and live.occurred_at < leads.created_date
    union
    -- copies of an earlier logged record
    select activity_id
    from live
    qualify row_number() over (
        partition by
            owner_id, who_id, what_id, source_table, activity_type, subject, description,
            occurred_at
        order by logged_at, activity_id
    ) > 1
    union
    -- unverified visit
    select visits.activity_id
    from visits
    anti join verified_visits on visits.activity_id = verified_visits.activity_id
),

-- WeCom external contact -> CRM person with the same mobile (compared as md5 of its digits;
-- a contact saved with several mobiles keeps the largest hash): the first contact by id,
-- with its account, else the first lead
wecom_mobiles as (
    select
        external_userid,
        max(md5(regexp_replace(mobile, '[^0-9]', '', 'g'))) as mobile_hash
    from (
        select
            external_userid,
            unnest(string_split(coalesce(remark_mobiles, ''), ',')) as mobile
        from raw_wecom.external_contacts
    )
    where mobile <> ''
    group by external_userid
),

contact_matches as (
    select
        wecom_mobiles.external_userid,
        contacts.id as contact_id,
        contacts.account_id
    from wecom_mobiles
    inner join raw_crm.contacts as contacts
        on
            md5(regexp_replace(contacts.mobile_phone, '[^0-9]', '', 'g'))
            = wecom_mobiles.mobile_hash
            and not coalesce(contacts.is_deleted, false)
    qualify row_number() over (
        partition by wecom_mobiles.external_userid order by contacts.id
    ) = 1
),

lead_matches as (
    select
        wecom_mobiles.external_userid,
        min(leads.id) as lead_id
    from wecom_mobiles
    inner join raw_crm.leads as leads
        on
            md5(regexp_replace(leads.mobile_phone, '[^0-9]', '', 'g'))
            = wecom_mobiles.mobile_hash
            and not coalesce(leads.is_deleted, false)
    group by wecom_mobiles.external_userid
),

wecom_people as (
    select
        wecom_mobiles.external_userid,
        coalesce(contact_matches.contact_id, lead_matches.lead_id) as who_id,
        contact_matches.account_id
    from wecom_mobiles
    left join contact_matches
        on wecom_mobiles.external_userid = contact_matches.external_userid
    left join lead_matches on wecom_mobiles.external_userid = lead_matches.external_userid
),

messages as (
    select
        msgid,
        sender,
        msgtype,
        content,
        msgtime,
        unnest(string_split(coalesce(recipients, ''), ',')) as recipient
    from raw_wecom.chat_messages
),

-- a check-in is at the live account (first by id) whose company key is the place's
account_keys as (
    select
        list_reduce(
            company_noise.tokens, lambda name, token: replace(name, token, ''), accounts.name
        ) as name_key,
        min(accounts.id) as account_id
    from raw_crm.accounts as accounts
    cross join company_noise
    where not coalesce(accounts.is_deleted, false)
    group by name_key
),

checkins as (
    select
        checkins.userid,
        trim(checkins.location_title) as location_title,
        list_reduce(
            company_noise.tokens,
            lambda name, token: replace(name, token, ''),
            trim(checkins.location_title)
        ) as name_key,
        checkins.location_detail,
        checkins.checkin_time
    from raw_wecom.checkins as checkins
    cross join company_noise
),

timeline as (
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
    left join raw_crm.opportunities as opportunities
        on crm_activities.what_id = opportunities.id
    left join raw_crm.contacts as contacts on crm_activities.who_id = contacts.id
    union all
    select
        messages.msgid,
        'wecom_messages',
        reps.crm_user_id,
        wecom_people.who_id,
        cast(null as varchar),
        wecom_people.account_id,
        case when messages.msgtype = 'file' then 'WeCom文件' else 'WeCom消息' end,
        cast(null as varchar),
        messages.content,
        cast(null as double),
        false,
        messages.msgtime,
        messages.msgtime,
        messages.msgtime
    from messages
    inner join reps on messages.sender = reps.wecom_userid
    left join wecom_people on messages.recipient = wecom_people.external_userid
    where messages.recipient <> ''
    union all
    select
        'checkin:' || checkins.userid || ':' || cast(epoch(checkins.checkin_time) as varchar),
        'wecom_checkins',
        reps.crm_user_id,
        cast(null as varchar),
        cast(null as varchar),
        account_keys.account_id,
        'WeCom打卡',
        checkins.location_title,
        checkins.location_detail,
        cast(null as double),
        false,
        checkins.checkin_time,
        checkins.checkin_time,
        checkins.checkin_time
    from checkins
    inner join reps on checkins.userid = reps.wecom_userid
    left join account_keys on checkins.name_key = account_keys.name_key
),

-- the keyword and filler tests, once per distinct text
texts as (
    select
        distinct_texts.description,
        exists (
            select 1
            from keywords
            where strpos(distinct_texts.description, keywords.keyword) > 0
        ) as has_keyword,
        exists (
            select 1
            from fillers
            where trim(distinct_texts.description) = fillers.pattern
        ) as is_filler
    from (
        select distinct coalesce(description, '') as description
        from (
            select description from raw_crm.tasks
            union all
            select description from raw_crm.events
            union all
            select content from raw_wecom.chat_messages
            union all
            select location_detail from raw_wecom.checkins
        )
    ) as distinct_texts
)

select
    timeline.activity_id,
    case timeline.source_table
        when 'tasks' then 'crm_task'
        when 'events' then 'crm_event'
        when 'wecom_checkins' then 'wecom_checkin'
        else 'wecom_message'
    end as channel,
    timeline.source_table,
    reps.rep_id,
    timeline.owner_id,
    timeline.who_id,
    timeline.what_id,
    timeline.account_id,
    timeline.activity_type,
    timeline.subject,
    timeline.description,
    timeline.duration_s,
    timeline.occurred_at,
    timeline.logged_at,
    timeline.changed_at,
    timeline.is_deleted,
    (timeline.activity_type in ('WeCom文件', 'WeCom打卡') or texts.has_keyword)
    and not texts.is_filler as is_substantive,
    untrusted.activity_id is null as is_trusted
from timeline
inner join texts on coalesce(timeline.description, '') = texts.description
left join untrusted on timeline.activity_id = untrusted.activity_id
left join reps on timeline.owner_id = reps.crm_user_id
