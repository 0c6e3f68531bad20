-- Each open opportunity's win probability on the as-of day (fct_win_probability), beside its
-- stage's configured probability, with the features that drive it: each feature's
-- contribution to the log-odds, and the two that move it most, named with their direction.
-- Where the month's model does not apply, the stage probability stands and the drivers are
-- empty (model_status says why).
with

open_deals as (
    select * from {{ ref('rpt_open_opportunities') }}
),

win_probability as (
    select * from {{ ref('fct_win_probability') }}
),

today as (
    {{ last_day_rows('win_probability') }}
),

-- one row per deal x feature (the intercept moves every deal alike and is left out)
feature_contributions as (
    {%- for column, label in [
        ('contribution_stage', '所处阶段'),
        ('contribution_dwell', '阶段停留相对P90'),
        ('contribution_activities', '近14天活动'),
        ('contribution_trial', '客户试用'),
        ('contribution_decision_chain', '决策链已填写'),
    ] %}
        {{ "union all" if not loop.first }}
        select
            opportunity_id,
            '{{ label }}' as feature_label,
            {{ column }} as contribution
        from today
        where {{ column }} is not null and {{ column }} <> 0
    {%- endfor %}
),

ranked as (
    select
        opportunity_id,
        {{ dbt.concat([
            'feature_label',
            "case when contribution > 0 then '（提升）' else '（拉低）' end",
        ]) }} as driver,
        row_number() over (
            partition by opportunity_id order by abs(contribution) desc, feature_label
        ) as driver_rank
    from feature_contributions
),

drivers as (
    select
        opportunity_id,
        max(case when driver_rank = 1 then driver end) as top_driver,
        max(case when driver_rank = 2 then driver end) as second_driver
    from ranked
    group by opportunity_id
),

final as (
    select
        open_deals.opportunity_id,
        open_deals.opportunity_name,
        open_deals.rep_id,
        open_deals.rep_name,
        open_deals.region,
        open_deals.stage,
        open_deals.stage_label,
        open_deals.amount,
        open_deals.expected_close_date,
        today.win_probability,
        today.stage_probability,
        today.probability_method,
        today.model_status,
        drivers.top_driver,
        drivers.second_driver,
        today.contribution_stage,
        today.contribution_dwell,
        today.contribution_activities,
        today.contribution_trial,
        today.contribution_decision_chain
    from open_deals
    inner join today on open_deals.opportunity_id = today.opportunity_id
    left join drivers on open_deals.opportunity_id = drivers.opportunity_id
)

select * from final
