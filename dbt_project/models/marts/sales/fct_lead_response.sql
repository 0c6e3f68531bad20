-- One row per lead: how long it waited from assignment to its first touch (SPEC §5).
-- First touch = earliest touch at or after the lead's creation and not after the as-of
-- day; touches dated before the lead existed or in the future are data-quality findings,
-- not responses. Bands and windows come from the settings sheet. With no touch source at all
-- (no CRM Task or Event object in the export, no WeCom) response time is 'not_applicable',
-- never "every lead red".
-- Incremental: every lead is derived each run and a row written only where it differs from
-- the stored one (changed_rows): a new or late-arriving lead, an edit (status, owner,
-- conversion), a touch that arrives late or now matches the lead (a WeCom contact saved with
-- its mobile), a rep remapped, and a lead still waiting (its band moves with the as-of day)
-- all rewrite their rows; a lead deleted is retracted.
{{ config(**changed_rows_config('lead_id', 'response_band')) }}
{%- set no_touch_source = 'true' if (contract_missing('crm', 'Task')
    and contract_missing('crm', 'Event') and not source_exists('wecom', 'chat_messages'))
    else 'false' %}
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

assignments as (
    select * from {{ ref('int_leads_assigned') }}
),

touches as (
    select * from {{ ref('int_lead_touches_unioned') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

-- without Lead.IsConverted conversion is unknown (null), not "never converted"
applicability as (
    {{ metric_applicability('lead_conversion') }}
),

first_touches as (
    select
        touches.lead_id,
        min(touches.touched_at) as first_touch_at
    from touches
    inner join leads on touches.lead_id = leads.lead_id
    where
        touches.touched_at >= leads.created_at
        and touches.touched_at <= {{ as_of_end() }}
    group by touches.lead_id
),

measured as (
    select
        leads.lead_id,
        reps.rep_id,
        assignments.owner_user_id as crm_owner_id,
        reps.region,
        leads.lead_source,
        leads.lead_status,
        {{ when_applicable('leads.is_converted') }} as converted,
        leads.created_at,
        assignments.assigned_at,
        first_touches.first_touch_at,
        {{ hours_between('assignments.assigned_at', 'first_touches.first_touch_at') }}
            as response_hours,
        {{ hours_between('assignments.assigned_at', as_of_end()) }} as waited_hours
    from leads
    inner join assignments on leads.lead_id = assignments.lead_id
    left join first_touches on leads.lead_id = first_touches.lead_id
    left join reps on assignments.owner_user_id = reps.crm_user_id
    cross join applicability
    where not leads.is_deleted
),

banded as (
    select
        measured.lead_id,
        measured.rep_id,
        measured.crm_owner_id,
        measured.region,
        measured.lead_source,
        measured.lead_status,
        case
            when measured.assigned_at is null then 'unassigned'
            when {{ no_touch_source }} then 'not_applicable'
            when measured.response_hours is null
                then
                    case
                        when measured.waited_hours > settings.response_red_hours then 'red'
                        else 'pending'
                    end
            when measured.response_hours < settings.response_green_hours then 'green'
            when measured.response_hours <= settings.response_red_hours then 'yellow'
            else 'red'
        end as response_band,
        measured.response_hours,
        case
            when not {{ no_touch_source }}
                then coalesce(measured.response_hours <= settings.response_red_hours, false)
        end as responded_within_24h,
        case
            when not {{ no_touch_source }}
                then coalesce(measured.response_hours <= settings.followup_window_hours, false)
        end as touched_within_72h,
        measured.converted,
        cast({{ to_local('measured.created_at') }} as date) as lead_date,
        measured.created_at,
        measured.assigned_at,
        measured.first_touch_at
    from measured
    cross join settings
)

{{ changed_rows('banded', 'lead_id', 'response_band') }}
