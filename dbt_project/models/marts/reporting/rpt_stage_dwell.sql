-- Stage dwell for the funnel heat map: per region (grain = region) and per rep (grain = rep)
-- and stage, the median and p90 days of the stays that ended, how many ended, and how many
-- deals sit in the stage now.
with

stage_labels as (
    select * from {{ ref('int_stage_labels') }}
),

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
        {{ ended_dwell_percentiles() }}
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
        aggregated.median_dwell_days,
        aggregated.p90_dwell_days
    from aggregated
    left join stage_labels on aggregated.stage = stage_labels.stage
)

select * from final
