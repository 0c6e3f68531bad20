-- Process health index (PHI, SPEC §5) per month x rep: response compliance, key-action
-- completion and information completeness, weighted by the settings sheet; components a rep
-- had no chance to show in a month are left out of that month's weighting. Also the
-- effective interaction rate over trusted activities. Information completeness is null (left
-- out) when the export lacks one of its fields (rpt_metric_applicability), never 0.
with

lead_response as (
    select * from {{ ref('fct_lead_response') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

response as (
    select
        rep_id,
        cast({{ dbt.date_trunc('month', to_local('assigned_at')) }} as date) as month,
        avg(case when responded_within_24h then 1 else 0 end) as response_compliance
    from lead_response
    where rep_id is not null and response_band not in ('pending', 'unassigned', 'not_applicable')
    group by 1, 2
),

key_actions as (
    select
        rep_id,
        cast({{ dbt.date_trunc('month', 'entered_date') }} as date) as month,
        avg(case when has_evidence then 1 else 0 end) as key_action_completion
    from stage_history
    where
        rep_id is not null
        and stage not in ('lead_confirmed', 'lost')
        and has_evidence is not null
    group by 1, 2
),

info as (
    select
        reps.rep_id,
        cast({{ dbt.date_trunc('month', to_local('opportunities.created_at')) }} as date)
            as month,
        avg(
            (
                case when opportunities.decision_chain is not null then 1 else 0 end
                + case when opportunities.objection is not null then 1 else 0 end
                + case
                    when
                        opportunities.next_step is not null
                        and opportunities.next_step_date is not null
                        then 1
                    else 0
                end
            ) / cast(3 as double)
        ) as info_completeness
    from opportunities
    inner join reps on opportunities.owner_id = reps.crm_user_id
    where not opportunities.is_deleted
    group by 1, 2
),

interactions as (
    select
        reps.rep_id,
        cast({{ dbt.date_trunc('month', to_local('activities.occurred_at')) }} as date) as month,
        avg(case when activities.is_substantive then 1 else 0 end)
            as effective_interaction_rate,
        count(*) as trusted_activities
    from activities
    inner join reps on activities.owner_id = reps.crm_user_id
    where
        activities.is_trusted and not activities.is_deleted
        and activities.occurred_at <= {{ as_of_end() }}
    group by 1, 2
),

months as (
    select
        rep_id,
        month
    from response
    union
    select
        rep_id,
        month
    from key_actions
    union
    select
        rep_id,
        month
    from info
    union
    select
        rep_id,
        month
    from interactions
),

applicability as (
    {{ metric_applicability('info_completeness') }}
),

combined as (
    select
        months.month,
        months.rep_id,
        reps.rep_name,
        reps.region,
        reps.manager_id,
        response.response_compliance,
        key_actions.key_action_completion,
        {{ when_applicable('info.info_completeness') }} as info_completeness,
        interactions.effective_interaction_rate,
        coalesce(interactions.trusted_activities, 0) as trusted_activities,
        settings.phi_weight_response as w_response,
        settings.phi_weight_key_action as w_key_action,
        settings.phi_weight_info as w_info
    from months
    cross join settings
    cross join applicability
    inner join reps on months.rep_id = reps.rep_id
    left join response on months.rep_id = response.rep_id and months.month = response.month
    left join key_actions
        on months.rep_id = key_actions.rep_id and months.month = key_actions.month
    left join info on months.rep_id = info.rep_id and months.month = info.month
    left join interactions
        on months.rep_id = interactions.rep_id and months.month = interactions.month
),

final as (
    select
        month,
        rep_id,
        rep_name,
        region,
        manager_id,
        cast(response_compliance as double) as response_compliance,
        cast(key_action_completion as double) as key_action_completion,
        cast(info_completeness as double) as info_completeness,
        cast(
            100.0 * (
                coalesce(w_response * response_compliance, 0)
                + coalesce(w_key_action * key_action_completion, 0)
                + coalesce(w_info * info_completeness, 0)
            )
            / nullif(
                case when response_compliance is null then 0 else w_response end
                + case when key_action_completion is null then 0 else w_key_action end
                + case when info_completeness is null then 0 else w_info end,
                0
            ) as double
        ) as phi,
        cast(effective_interaction_rate as double) as effective_interaction_rate,
        trusted_activities
    from combined
)

select * from final
