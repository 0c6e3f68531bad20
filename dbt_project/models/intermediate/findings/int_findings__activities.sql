-- Truthfulness findings on activity records (SPEC §6): backfill bursts, short visits, records
-- from the future, activities before their lead existed, duplicates. Columns as dq_findings'
-- rule families: rule, severity, source_table, record_id, owner_id, details. On an incremental
-- run of dq_findings (macros/findings.sql) each rule re-examines the records changed since the
-- last run, those whose evidence overlaps them, and the records flagged last time.
-- read on an incremental run only:
-- depends_on: {{ ref('int_findings_since') }}
{%- set incremental = findings_incremental() %}
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

{% if incremental -%}
-- activities changed since the last run, deleted ones too (their findings go)
changed as (
    select activities.*
    from activities
    cross join {{ ref('int_findings_since') }} as since
    where since.changed_since is null or activities.changed_at >= since.changed_since
),

-- the records a rule on the record alone re-examines: changed, flagged last time, or whose
-- lead changed (activity_before_lead compares with the lead's creation)
reexamined as (
    select activity_id from changed
    union
    select previous.record_id from {{ findings_previous() }} as previous
    union
    select activities.activity_id
    from activities
    inner join leads on activities.who_id = leads.lead_id
    cross join {{ ref('int_findings_since') }} as since
    where coalesce(leads.modified_at, leads.created_at) >= since.changed_since
),

-- the span around each changed record that its burst windows reach; bounds as columns, so
-- that the range joins below are evaluated within the join instead of filtering every pair
-- of one owner's records after it
changed_reach as (
    select
        changed.owner_id,
        {{ dbt.dateadd(
            'minute', '-1 * cast(settings.burst_window_minutes as integer)',
            'changed.logged_at') }} as reach_from,
        {{ dbt.dateadd(
            'minute', 'cast(settings.burst_window_minutes as integer)',
            'changed.logged_at') }} as reach_to
    from changed
    cross join settings
),

-- the activities whose burst windows may hold a changed record (one logged within
-- burst_window_minutes of it, same owner) or that were flagged last time
burst_subjects as (
    select
        live_activities.activity_id,
        live_activities.owner_id,
        live_activities.logged_at,
        {{ dbt.dateadd(
            'minute', '-1 * cast(settings.burst_window_minutes as integer)',
            'live_activities.logged_at') }} as anchors_from
    from live_activities
    cross join settings
    inner join changed_reach
        on
            live_activities.owner_id = changed_reach.owner_id
            and live_activities.logged_at >= changed_reach.reach_from
            and live_activities.logged_at <= changed_reach.reach_to
    union
    select
        live_activities.activity_id,
        live_activities.owner_id,
        live_activities.logged_at,
        {{ dbt.dateadd(
            'minute', '-1 * cast(settings.burst_window_minutes as integer)',
            'live_activities.logged_at') }} as anchors_from
    from live_activities
    cross join settings
    inner join {{ findings_previous() }} as previous
        on live_activities.activity_id = previous.record_id
),

{%- endif %}

-- each logged record opens a window of burst_window_minutes (those a subject may lie in)
burst_anchors as (
    select distinct
        live_activities.activity_id,
        live_activities.owner_id,
        live_activities.logged_at as window_start,
        {{ dbt.dateadd('minute', 'settings.burst_window_minutes', 'live_activities.logged_at') }}
            as window_end
    from live_activities
    cross join settings
    {% if incremental -%}
        inner join burst_subjects
            on
                live_activities.owner_id = burst_subjects.owner_id
                and live_activities.logged_at <= burst_subjects.logged_at
                and live_activities.logged_at >= burst_subjects.anchors_from
    {%- endif %}
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
    {% if incremental -%}
        inner join burst_subjects on member.activity_id = burst_subjects.activity_id
    {%- endif %}
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
        and {{ findings_reexamined('live_activities.activity_id', 'reexamined', 'activity_id') }}
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
    where
        occurred_at > {{ as_of_end() }}
        and {{ findings_reexamined('activity_id', 'reexamined', 'activity_id') }}
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
    where
        live_activities.occurred_at < leads.created_at
        and {{ findings_reexamined('live_activities.activity_id', 'reexamined', 'activity_id') }}
),

{% if incremental -%}
-- copies share owner and claimed time: an incremental run re-examines the (owner, claimed
-- time) groups of changed and of flagged records
copy_groups as (
    select
        owner_id,
        occurred_at
    from changed
    union
    select
        activities.owner_id,
        activities.occurred_at
    from activities
    inner join {{ findings_previous() }} as previous
        on activities.activity_id = previous.record_id
),

{%- endif %}

activity_copies as (
    select
        live_activities.activity_id,
        live_activities.source_table,
        live_activities.owner_id,
        first_value(live_activities.activity_id) over copies as original_id,
        row_number() over copies as copy_no
    from live_activities
    {% if incremental -%}
        inner join copy_groups
            on
                live_activities.owner_id is not distinct from copy_groups.owner_id
                and live_activities.occurred_at is not distinct from copy_groups.occurred_at
    {%- endif %}
    window copies as (
        partition by
            live_activities.owner_id,
            live_activities.who_id,
            live_activities.what_id,
            live_activities.source_table,
            live_activities.activity_type,
            live_activities.subject,
            live_activities.description,
            live_activities.occurred_at
        order by live_activities.logged_at, live_activities.activity_id
    )
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
