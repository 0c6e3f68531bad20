-- Stage dwell for the funnel heat map: per region (grain = region) and per rep (grain = rep)
-- and stage, the median and p90 days of the stays that ended, how many ended, and how many
-- deals sit in the stage now.
with

stays as (
    select * from {{ ref('int_stage_stays_labelled') }}
    where stage in ({{ open_stages() }}, 'contract_signed')
),

-- each stay counted twice: in its region's row and in its rep's row
both_grains as (
    select
        'region' as grain,
        region,
        '-' as rep_id,
        '全部' as rep_name,
        stage,
        stage_label,
        stage_order,
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
        stage_label,
        stage_order,
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
        stage_label,
        stage_order,
        count(case when has_ended then 1 end) as ended_stays,
        count(case when not has_ended then 1 end) as open_now,
        percentile_cont(0.5) within group (
            order by case when has_ended then dwell_days end
        ) as median_dwell_days,
        percentile_cont(0.9) within group (
            order by case when has_ended then dwell_days end
        ) as p90_dwell_days
    from both_grains
    group by grain, region, rep_id, rep_name, stage, stage_label, stage_order
),

final as (
    select
        grain,
        region,
        rep_id,
        rep_name,
        stage,
        stage_label,
        stage_order,
        cast(ended_stays as bigint) as ended_stays,
        cast(open_now as bigint) as open_now,
        cast(median_dwell_days as double) as median_dwell_days,
        cast(p90_dwell_days as double) as p90_dwell_days
    from aggregated
)

select * from final
