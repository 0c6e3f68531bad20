-- Truthfulness findings on visits (SPEC §6): a CRM visit without a WeCom check-in of the same
-- rep at the same company (company_key, as the activity timeline matches) near the time. An
-- incremental run of dq_findings (macros/findings.sql) re-examines the visits within twice
-- checkin_window_hours of a visit changed since the last run (a check-in verifies the nearest
-- visit), those within the window of a new check-in, those at a lead or contact changed since
-- (the company visited), and those flagged last time.
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

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

accounts as (
    select * from {{ ref('int_accounts_matched_to_u8') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

checkins as (
    select * from {{ ref('stg_wecom__checkins') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

-- check-ins without their place (every WeCom response lacks location_title) verify nothing:
-- the rule does not apply rather than flag every visit
applicability as (
    {{ metric_applicability('unverified_visit') }}
),

{% if incremental -%}
{%- endif %}

live_activities as (
    select * from activities
    where not is_deleted
),

-- a visit is verified by a WeCom field check-in of the same rep within checkin_window_hours
-- at the visited company (the place the rep picked when checking in). Without WeCom the rule
-- does not apply (SPEC §8) and finds nothing.
visits as (
    select
        live_activities.activity_id,
        live_activities.source_table,
        live_activities.owner_id,
        live_activities.who_id,
        live_activities.occurred_at,
        coalesce(leads.company_name, accounts.account_name) as company_name
    from live_activities
    left join leads on live_activities.who_id = leads.lead_id
    left join contacts on live_activities.who_id = contacts.contact_id
    left join accounts on contacts.account_id = accounts.account_id
    where live_activities.source_table = 'events' and live_activities.activity_type = '拜访'
),

{% if incremental -%}
-- visits changed since the last run, deleted ones too (a check-in may verify another now)
changed_visits as (
    select
        activities.owner_id,
        activities.occurred_at
    from activities
    cross join {{ ref('int_findings_since') }} as since
    where
        activities.source_table = 'events'
        and activities.activity_type = '拜访'
        and activities.changed_at >= since.changed_since
),

-- the visits re-examined
visit_subjects as (
    select visits.activity_id
    from visits
    cross join settings
    inner join changed_visits
        on
            visits.owner_id = changed_visits.owner_id
            and abs({{ seconds_between('visits.occurred_at', 'changed_visits.occurred_at') }})
            <= 2 * settings.checkin_window_hours * 3600
    union
    select visits.activity_id
    from visits
    cross join settings
    cross join {{ ref('int_findings_since') }} as since
    inner join reps on visits.owner_id = reps.crm_user_id
    inner join checkins
        on
            reps.wecom_userid = checkins.wecom_userid
            and checkins.checked_in_at >= since.changed_since
            and abs({{ seconds_between('visits.occurred_at', 'checkins.checked_in_at') }})
            <= settings.checkin_window_hours * 3600
    union
    select visits.activity_id
    from visits
    inner join leads on visits.who_id = leads.lead_id
    cross join {{ ref('int_findings_since') }} as since
    where coalesce(leads.modified_at, leads.created_at) >= since.changed_since
    union
    select visits.activity_id
    from visits
    inner join contacts on visits.who_id = contacts.contact_id
    cross join {{ ref('int_findings_since') }} as since
    where contacts.created_at >= since.changed_since
    union
    select visits.activity_id
    from visits
    inner join {{ findings_previous() }} as previous
        on visits.activity_id = previous.record_id
),

{%- endif %}

-- the check-ins that may verify a visit re-examined (all of them on a full examination)
subject_checkins as (
    {% if incremental -%}
        select distinct checkins.*
        from checkins
        cross join settings
        inner join reps on checkins.wecom_userid = reps.wecom_userid
        inner join visits on reps.crm_user_id = visits.owner_id
        inner join visit_subjects on visits.activity_id = visit_subjects.activity_id
        where
            abs({{ seconds_between('visits.occurred_at', 'checkins.checked_in_at') }})
            <= settings.checkin_window_hours * 3600
    {%- else -%}
        select * from checkins
    {%- endif %}
),

-- each check-in verifies one visit: the nearest visit of that rep to that company
checkin_matches as (
    select
        visits.activity_id,
        row_number() over (
            partition by subject_checkins.wecom_userid, subject_checkins.checked_in_at
            order by
                abs({{ seconds_between('visits.occurred_at', 'subject_checkins.checked_in_at') }}),
                visits.activity_id
        ) as nearness
    from visits
    cross join settings
    inner join reps on visits.owner_id = reps.crm_user_id
    inner join subject_checkins
        on
            reps.wecom_userid = subject_checkins.wecom_userid
            and {{ company_key('visits.company_name') }}
            = {{ company_key('subject_checkins.location_title') }}
            and abs({{ seconds_between('visits.occurred_at', 'subject_checkins.checked_in_at') }})
            <= settings.checkin_window_hours * 3600
),

verified_visits as (
    select distinct activity_id
    from checkin_matches
    where nearness = 1
),

unverified_visit as (
    select
        'unverified_visit' as rule,
        'high' as severity,
        visits.source_table,
        visits.activity_id as record_id,
        visits.owner_id,
        {{ json_object({
            'company': 'visits.company_name',
            'visited_at': 'visits.occurred_at',
        }) }} as details
    from visits
    {% if incremental -%}
        inner join visit_subjects on visits.activity_id = visit_subjects.activity_id
    {%- endif %}
    left join verified_visits on visits.activity_id = verified_visits.activity_id
    cross join applicability
    where
        verified_visits.activity_id is null
        and applicability.is_applicable
        and {{ 'true' if source_exists('wecom', 'checkins') else 'false' }}
),

final as (
    select * from unverified_visit
)

select * from final
