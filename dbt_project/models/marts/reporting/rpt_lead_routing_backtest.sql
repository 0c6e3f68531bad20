-- The routing backtest: had each closed lead gone to the rep routing recommends (the rep of
-- its region with the best track record in its industry; availability is not replayed), how the
-- first-touch time, the 72 h follow-up rate and the conversion rate would have moved. Each rep
-- is taken at their own observed figures: mean response hours of their touched leads, their
-- 72 h follow-up share, their conversion rate in the lead's industry. Per region and for all
-- ('全部'): the mean of the actual reps' figures, of the recommended reps', the change and its
-- 95 % interval by the normal approximation over the leads' paired differences (the reps'
-- figures are in-sample: the leads scored are the leads they were measured on).
with

leads as (
    select * from {{ ref('int_leads_scored_with_response') }}
),

industry_wins as (
    select * from {{ ref('int_rep_industry_wins') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

-- without Lead.IsConverted the conversion rates are null, never 0
applicability as (
    {{ metric_applicability('lead_conversion') }}
),

closed_leads as (
    select
        lead_id,
        rep_id,
        region,
        industry,
        response_hours,
        cast(case when touched_within_72h then 1 else 0 end as double) as followed_up,
        cast(case when is_converted then 1 else 0 end as double) as converted
    from leads
    where not is_open and rep_id is not null and industry is not null
),

rep_figures as (
    select
        rep_id,
        avg(response_hours) as mean_response_hours,
        avg(followed_up) as followup_rate
    from closed_leads
    group by rep_id
),

rep_industry_figures as (
    select
        rep_id,
        industry,
        avg(converted) as conversion_rate
    from closed_leads
    group by rep_id, industry
),

-- the rep routing recommends depends on the lead's region and industry alone: ranked once per
-- pair, not once per lead
region_industries as (
    select distinct
        region,
        industry
    from closed_leads
),

recommended as (
    select
        region_industries.region,
        region_industries.industry,
        reps.rep_id,
        row_number() over (
            partition by region_industries.region, region_industries.industry
            order by
                coalesce(industry_wins.track_record, 0) desc,
                coalesce(industry_wins.won_deals, 0) desc,
                reps.rep_id
        ) as candidate_rank
    from region_industries
    inner join reps on region_industries.region = reps.region and reps.rep_role = 'rep'
    inner join rep_figures on reps.rep_id = rep_figures.rep_id
    left join industry_wins
        on
            reps.rep_id = industry_wins.rep_id
            and region_industries.industry = industry_wins.industry
),

paired as (
    select
        closed_leads.lead_id,
        closed_leads.region,
        recommended.rep_id <> closed_leads.rep_id as is_moved,
        actual.mean_response_hours as actual_hours,
        routed.mean_response_hours as routed_hours,
        actual.followup_rate as actual_followup,
        routed.followup_rate as routed_followup,
        {{ when_applicable('coalesce(actual_conv.conversion_rate, 0)') }} as actual_conversion,
        {{ when_applicable('coalesce(routed_conv.conversion_rate, 0)') }} as routed_conversion
    from closed_leads
    inner join recommended
        on
            closed_leads.region = recommended.region
            and closed_leads.industry = recommended.industry
            and recommended.candidate_rank = 1
    inner join rep_figures as actual on closed_leads.rep_id = actual.rep_id
    inner join rep_figures as routed on recommended.rep_id = routed.rep_id
    left join rep_industry_figures as actual_conv
        on closed_leads.rep_id = actual_conv.rep_id and closed_leads.industry = actual_conv.industry
    left join rep_industry_figures as routed_conv
        on recommended.rep_id = routed_conv.rep_id and closed_leads.industry = routed_conv.industry
    cross join applicability
),

long as (
    select
        region,
        lead_id,
        is_moved,
        'first_touch_hours' as metric,
        actual_hours as actual_value,
        routed_hours as routed_value
    from paired
    where actual_hours is not null and routed_hours is not null
    union all
    select
        region,
        lead_id,
        is_moved,
        'followup_72h_rate' as metric,
        actual_followup as actual_value,
        routed_followup as routed_value
    from paired
    union all
    select
        region,
        lead_id,
        is_moved,
        'conversion_rate' as metric,
        actual_conversion as actual_value,
        routed_conversion as routed_value
    from paired
),

both_scopes as (
    select * from long
    union all
    select
        '全部' as region,
        lead_id,
        is_moved,
        metric,
        actual_value,
        routed_value
    from long
),

summarised as (
    select
        region,
        metric,
        count(*) as leads,
        sum(case when is_moved then 1 else 0 end) as moved_leads,
        avg(actual_value) as actual_value,
        avg(routed_value) as routed_value,
        avg(routed_value - actual_value) as routed_change,
        coalesce(stddev_samp(routed_value - actual_value), 0) / sqrt(count(*)) as change_se
    from both_scopes
    group by region, metric
),

final as (
    select
        region,
        metric,
        case metric
            when 'first_touch_hours' then '首次触达（小时）'
            when 'followup_72h_rate' then '72小时跟进率'
            else '转化率'
        end as metric_label,
        cast(leads as integer) as leads,
        cast(moved_leads as integer) as moved_leads,
        cast(actual_value as double) as actual_value,
        cast(routed_value as double) as routed_value,
        cast(routed_change as double) as routed_change,
        cast(routed_change - 1.96 * change_se as double) as change_ci_low,
        cast(routed_change + 1.96 * change_se as double) as change_ci_high
    from summarised
)

select * from final
