-- Stage dwell for the funnel heat map: per region (grain = region) and per rep (grain = rep)
-- and stage, the median and p90 days of the stays that ended, how many ended, and how many
-- deals sit in the stage now.
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

stays as (
    select
        coalesce(stage_history.region, '未分配') as region,
        coalesce(stage_history.rep_id, '-') as rep_id,
        coalesce(reps.rep_name, '未分配') as rep_name,
        stage_history.stage,
        stage_history.dwell_days,
        stage_history.exited_at is not null as has_ended
    from stage_history
    left join reps on stage_history.rep_id = reps.rep_id
    where stage_history.stage in ({{ open_stages() }}, 'contract_signed')
),

-- each stay counted twice: in its region's row and in its rep's row
both_grains as (
    select
        'region' as grain,
        region,
        '-' as rep_id,
        '全部' as rep_name,
        stage,
        dwell_days,
        has_ended
    from stays
    union all
    select
        'rep' as grain,
        region,
        rep_id,
        rep_name,
        stage,
        dwell_days,
        has_ended
    from stays
),

aggregated as (
    select
        grain,
        region,
        rep_id,
        rep_name,
        stage,
        count(case when has_ended then 1 end) as ended_stays,
        count(case when not has_ended then 1 end) as open_now,
        percentile_cont(0.5) within group (
            order by case when has_ended then dwell_days end
        ) as median_dwell_days,
        percentile_cont(0.9) within group (
            order by case when has_ended then dwell_days end
        ) as p90_dwell_days
    from both_grains
    group by grain, region, rep_id, rep_name, stage
),

final as (
    select
        aggregated.grain,
        aggregated.region,
        aggregated.rep_id,
        aggregated.rep_name,
        aggregated.stage,
        coalesce(stage_labels.stage_label, aggregated.stage) as stage_label,
        stage_labels.stage_order,
        cast(aggregated.ended_stays as bigint) as ended_stays,
        cast(aggregated.open_now as bigint) as open_now,
        cast(aggregated.median_dwell_days as double) as median_dwell_days,
        cast(aggregated.p90_dwell_days as double) as p90_dwell_days
    from aggregated
    left join stage_labels on aggregated.stage = stage_labels.stage
)

select * from final
