-- Truthfulness findings on activity records (SPEC §6): backfill bursts, short visits, records
-- from the future, activities before their lead existed, duplicates. Columns as dq_findings'
-- rule families: rule, severity, source_table, record_id, owner_id, details.
with

activities as (
    select * from {{ ref('int_activities_unioned') }}
),

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

live_activities as (
    select * from activities
    where not is_deleted
),

-- each logged record opens a window of burst_window_minutes
burst_anchors as (
    select
        live_activities.activity_id,
        live_activities.owner_id,
        live_activities.logged_at as window_start,
        {{ dbt.dateadd('minute', 'settings.burst_window_minutes', 'live_activities.logged_at') }}
            as window_end
    from live_activities
    cross join settings
),

-- the windows holding enough records whose claimed times span enough days
burst_windows as (
    select
        burst_anchors.activity_id as anchor_id,
        burst_anchors.owner_id,
        burst_anchors.window_start,
        burst_anchors.window_end,
        count(*) as records,
        min(member.occurred_at) as first_claimed_at,
        max(member.occurred_at) as last_claimed_at
    from burst_anchors
    inner join live_activities as member
        on
            burst_anchors.owner_id = member.owner_id
            and burst_anchors.window_start <= member.logged_at
            and burst_anchors.window_end >= member.logged_at
    group by
        burst_anchors.activity_id,
        burst_anchors.owner_id,
        burst_anchors.window_start,
        burst_anchors.window_end
),

qualifying_windows as (
    select burst_windows.*
    from burst_windows
    cross join settings
    where
        burst_windows.records >= settings.burst_min_records
        and {{ seconds_between('burst_windows.first_claimed_at', 'burst_windows.last_claimed_at') }}
        >= settings.burst_span_days * 86400
),

burst_members as (
    select
        member.activity_id,
        member.source_table,
        member.owner_id,
        min(qualifying_windows.window_start) as burst_start,
        max(qualifying_windows.records) as records,
        min(qualifying_windows.first_claimed_at) as first_claimed_at,
        max(qualifying_windows.last_claimed_at) as last_claimed_at
    from qualifying_windows
    inner join live_activities as member
        on
            qualifying_windows.owner_id = member.owner_id
            and qualifying_windows.window_start <= member.logged_at
            and qualifying_windows.window_end >= member.logged_at
    group by member.activity_id, member.source_table, member.owner_id
),

backfill_burst as (
    select
        'backfill_burst' as rule,
        'high' as severity,
        source_table,
        activity_id as record_id,
        owner_id,
        {{ json_object({
            'burst_start': 'burst_start',
            'records_in_window': 'records',
            'claimed_from': 'first_claimed_at',
            'claimed_to': 'last_claimed_at',
        }) }} as details
    from burst_members
),

short_visit as (
    select
        'short_visit' as rule,
        'medium' as severity,
        live_activities.source_table,
        live_activities.activity_id as record_id,
        live_activities.owner_id,
        {{ json_object({'seconds': 'live_activities.duration_s'}) }} as details
    from live_activities
    cross join settings
    where
        live_activities.source_table = 'events'
        and live_activities.activity_type = '拜访'
        and live_activities.duration_s < settings.short_visit_seconds
),

future_timestamp as (
    select
        'future_timestamp' as rule,
        'medium' as severity,
        source_table,
        activity_id as record_id,
        owner_id,
        {{ json_object({'occurred_at': 'occurred_at'}) }} as details
    from live_activities
    where occurred_at > {{ as_of_end() }}
),

activity_before_lead as (
    select
        'activity_before_lead' as rule,
        'medium' as severity,
        live_activities.source_table,
        live_activities.activity_id as record_id,
        live_activities.owner_id,
        {{ json_object({
            'lead_id': 'leads.lead_id',
            'lead_created_at': 'leads.created_at',
            'occurred_at': 'live_activities.occurred_at',
        }) }} as details
    from live_activities
    inner join leads on live_activities.who_id = leads.lead_id
    where live_activities.occurred_at < leads.created_at
),

activity_copies as (
    select
        activity_id,
        source_table,
        owner_id,
        first_value(activity_id) over (
            partition by
                owner_id,
                who_id,
                what_id,
                source_table,
                activity_type,
                subject,
                description,
                occurred_at
            order by logged_at, activity_id
        ) as original_id,
        row_number() over (
            partition by
                owner_id,
                who_id,
                what_id,
                source_table,
                activity_type,
                subject,
                description,
                occurred_at
            order by logged_at, activity_id
        ) as copy_no
    from live_activities
),

duplicate_activity as (
    select
        'duplicate_activity' as rule,
        'low' as severity,
        source_table,
        activity_id as record_id,
        owner_id,
        {{ json_object({'duplicate_of': 'original_id'}) }} as details
    from activity_copies
    where copy_no > 1
),

final as (
    select * from backfill_burst
    union all
    select * from short_visit
    union all
    select * from future_timestamp
    union all
    select * from activity_before_lead
    union all
    select * from duplicate_activity
)

select * from final
