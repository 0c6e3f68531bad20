-- The lead-score page: every open lead with its score, grade and the behaviours that made it,
-- and which behaviour signals the loaded sources can show at all (CRM only: no WeCom signal).
{%- set has_wecom = source_exists('wecom', 'chat_messages') %}
{%- set signals = ['lead_source', 'landing_page', 'crm_activity'] + (
    ['wecom_question', 'wecom_reply', 'no_reply_days'] if has_wecom else []) %}
with

scores as (
    select * from {{ ref('fct_lead_scores') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

rules as (
    select * from {{ ref('stg_sheets__scoring_behaviors') }}
),

available as (
    select
        {{ dbt.listagg('behavior', "'、'", 'order by behavior') }} as behaviors_available
    from rules
    where signal_type in (
        {%- for signal in signals %}
            '{{ signal }}'{{ "," if not loop.last }}
        {%- endfor %}
    )
),

open_leads as (
    select
        scores.lead_id,
        coalesce(scores.region, '未分配') as region,
        coalesce(scores.rep_id, '-') as rep_id,
        coalesce(reps.rep_name, '未分配') as rep_name,
        scores.lead_source,
        scores.industry,
        scores.lead_status,
        scores.grade,
        scores.behaviors,
        coalesce(available.behaviors_available, '') as behaviors_available,
        cast(scores.score as integer) as score,
        cast(scores.behavior_count as integer) as behavior_count,
        {{ 'true' if has_wecom else 'false' }} as has_wecom,
        cast({{ to_local('scores.created_at') }} as date) as lead_date
    from scores
    left join reps on scores.rep_id = reps.rep_id
    cross join available
    where scores.is_open
)

select * from open_leads
