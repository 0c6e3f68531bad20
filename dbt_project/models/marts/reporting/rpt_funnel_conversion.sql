-- Funnel page: per month (of entering the stage), region, rep and stage, how many entered,
-- how many moved on to a later stage, and the median and p90 days spent in the stage (stays
-- that ended).
with

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

stage_labels as (
    select * from {{ ref('int_stage_labels') }}
),

aggregated as (
    select
        cast({{ dbt.date_trunc('month', 'stage_history.entered_date') }} as date) as month,
        coalesce(stage_history.region, '未分配') as region,
        coalesce(stage_history.rep_id, '-') as rep_id,
        coalesce(reps.rep_name, '未分配') as rep_name,
        stage_history.stage,
        min(stage_history.stage_order) as stage_order,
        count(*) as entered,
        cast(sum(case when stage_history.advanced then 1 else 0 end) as bigint) as advanced,
        cast(sum(case when stage_history.has_evidence then 1 else 0 end) as bigint)
            as entered_with_evidence,
        cast(
            percentile_cont(0.5) within group (
                order by
                    case when stage_history.exited_at is not null then stage_history.dwell_days end
            ) as double
        ) as median_dwell_days,
        cast(
            percentile_cont(0.9) within group (
                order by
                    case when stage_history.exited_at is not null then stage_history.dwell_days end
            ) as double
        ) as p90_dwell_days
    from stage_history
    left join reps on stage_history.rep_id = reps.rep_id
    where stage_history.stage <> 'lost'
    group by 1, 2, 3, 4, 5
),

final as (
    select
        aggregated.month,
        aggregated.region,
        aggregated.rep_id,
        aggregated.rep_name,
        aggregated.stage,
        coalesce(stage_labels.stage_label, aggregated.stage) as stage_label,
        aggregated.stage_order,
        aggregated.entered,
        aggregated.advanced,
        aggregated.entered_with_evidence,
        cast(aggregated.advanced as double) / aggregated.entered as conversion_rate,
        aggregated.median_dwell_days,
        aggregated.p90_dwell_days
    from aggregated
    left join stage_labels on aggregated.stage = stage_labels.stage
)

select * from final
