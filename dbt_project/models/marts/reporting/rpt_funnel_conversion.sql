-- Funnel page: per month (of entering the stage), region, rep and stage, how many entered,
-- how many moved on to a later stage, and the median and p90 days spent in the stage (stays
-- that ended).
with

stays as (
    select * from {{ ref('int_stage_stays_labelled') }}
),

aggregated as (
    select
        cast({{ dbt.date_trunc('month', 'entered_date') }} as date) as month,
        region,
        rep_id,
        rep_name,
        stage,
        stage_label,
        min(stage_order) as stage_order,
        count(*) as entered,
        cast(sum(case when advanced then 1 else 0 end) as bigint) as advanced,
        cast(sum(case when has_evidence then 1 else 0 end) as bigint) as entered_with_evidence,
        {{ ended_dwell_percentiles() }}
    from stays
    where stage <> 'lost'
    group by 1, 2, 3, 4, 5, 6
),

final as (
    select
        month,
        region,
        rep_id,
        rep_name,
        stage,
        stage_label,
        stage_order,
        entered,
        advanced,
        entered_with_evidence,
        cast(advanced as double) / entered as conversion_rate,
        median_dwell_days,
        p90_dwell_days
    from aggregated
)

select * from final
