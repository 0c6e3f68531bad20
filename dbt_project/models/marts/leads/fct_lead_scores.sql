-- One row per lead: its score (the points of every behaviour the sources show up to the as-of
-- day), the score it had before it converted (what a rep could have seen; for a lead not
-- converted, the same), its grade (the highest grade of the thresholds sheet whose lowest
-- score it reaches) and the behaviours that made the score. A lead is open while it is not
-- converted and its status is none of var('lead_closed_statuses').
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

responses as (
    select * from {{ ref('fct_lead_response') }}
),

behaviors as (
    select * from {{ ref('fct_lead_behaviors') }}
),

thresholds as (
    select * from {{ ref('stg_sheets__scoring_thresholds') }}
),

totals as (
    select
        lead_id,
        sum(points) as score,
        sum(
            case
                when converted_before is null or occurred_at < converted_before then points
                else 0
            end
        ) as score_before_conversion,
        count(*) as behavior_count,
        {{ dbt.listagg(
            dbt.concat(['behavior', "case when points >= 0 then '+' else '' end",
                dbt.safe_cast('points', api.Column.translate_type('string'))]),
            "'；'", "order by occurred_at, behavior") }} as behaviors
    from (
        select
            behaviors.*,
            {{ to_utc('cast(leads.converted_date as timestamp)') }} as converted_before
        from behaviors
        inner join leads on behaviors.lead_id = leads.lead_id
    ) as dated
    group by lead_id
),

scored as (
    select
        leads.lead_id,
        responses.rep_id,
        responses.region,
        leads.lead_source,
        leads.landing_page,
        leads.industry,
        leads.lead_status,
        coalesce(totals.behaviors, '') as behaviors,
        coalesce(totals.score, 0) as score,
        coalesce(totals.score_before_conversion, 0) as score_before_conversion,
        coalesce(totals.behavior_count, 0) as behavior_count,
        responses.converted as is_converted,
        not leads.is_converted
        and coalesce(leads.lead_status, '') not in (
            {%- for status in var('lead_closed_statuses') %}
                '{{ status }}'{{ "," if not loop.last }}
            {%- endfor %}
        ) as is_open,
        leads.converted_date,
        leads.created_at
    from leads
    inner join responses on leads.lead_id = responses.lead_id
    left join totals on leads.lead_id = totals.lead_id
),

graded as (
    select
        scored.lead_id,
        max(thresholds.min_score) as grade_min_score
    from scored
    inner join thresholds on scored.score >= thresholds.min_score
    group by scored.lead_id
),

final as (
    select
        scored.lead_id,
        scored.rep_id,
        scored.region,
        scored.lead_source,
        scored.landing_page,
        scored.industry,
        scored.lead_status,
        thresholds.grade,
        scored.behaviors,
        scored.score,
        scored.score_before_conversion,
        scored.behavior_count,
        scored.is_converted,
        scored.is_open,
        scored.converted_date,
        scored.created_at
    from scored
    left join graded on scored.lead_id = graded.lead_id
    left join thresholds on graded.grade_min_score = thresholds.min_score
)

select * from final
