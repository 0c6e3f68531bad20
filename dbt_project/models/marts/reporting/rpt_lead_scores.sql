-- The lead-score page: every open lead with its score, grade and the behaviours that made it,
-- and which behaviour signals the loaded sources can show at all (CRM only: no WeCom signal).
{%- set max_named_rules = 8 %}
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

available_signals as (
    -- per signal the sheet's behaviours by name, or their number when there are many (a
    -- sheet with a row per landing page)
    select
        signal_type,
        count(*) as rule_count,
        {{ dbt.listagg('behavior', "'、'", 'order by behavior') }} as behavior_names
    from rules
    where
        signal_type in (
            {%- for signal in signals %}
                '{{ signal }}'{{ "," if not loop.last }}
            {%- endfor %}
        )
    group by signal_type
),

available as (
    select
        {{ dbt.listagg(
            dbt.concat([
                "case signal_type"
                ~ " when 'lead_source' then '线索来源' when 'landing_page' then '落地页'"
                ~ " when 'crm_activity' then 'CRM 跟进记录'"
                ~ " when 'wecom_question' then '企业微信客户提问'"
                ~ " when 'wecom_reply' then '企业微信回复'"
                ~ " when 'no_reply_days' then '多日未回复' else signal_type end",
                "'：'",
                "case when rule_count <= " ~ max_named_rules
                ~ " then behavior_names else cast(rule_count as string) || ' 条规则' end",
            ]),
            "'；'",
            "order by signal_type",
        ) }} as behaviors_available
    from available_signals
),

open_leads as (
    select
        scores.lead_id,
        {{ region_and_rep('scores') }},
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
