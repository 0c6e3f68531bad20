-- The monthly pipeline waterfall per month x region, from the daily pipeline (a row on a day =
-- open at the end of that day): what was open as the month began, i.e. at the end of the
-- day before (opening), what entered during the month (created), what left it won or lost,
-- and what was open at the end of its last day (closing; the as-of day for the running
-- month), so that opening + created - won - lost = closing and a month's closing is the next
-- month's opening. Among the deals open at both
-- ends, the movements inside the pipeline: advanced a stage, close date pulled into an
-- earlier month, slipped to a later one. Amounts are the opportunities' amounts; a deal
-- counts in the region it sat in at the end of its month. Without the amounts
-- (rpt_metric_applicability) the amounts are null, never 0; the deal counts stand.
with

pipeline as (
    select * from {{ ref('fct_pipeline_daily') }}
),

outcomes as (
    select * from {{ ref('int_deal_outcomes') }}
),

stage_config as (
    select * from {{ ref('stg_sheets__stage_config') }}
),

stage_orders as (
    select
        stage,
        min(stage_order) as stage_order
    from stage_config
    group by stage
),

months as (
    select
        month_start,
        month_start - 1 as day_before,
        least(month_end, {{ as_of_date() }}) as month_last_day
    from (
        select distinct
            cast({{ dbt.date_trunc('month', 'pipeline_date') }} as date) as month_start,
            cast(
                {{ dbt.dateadd('day', -1, dbt.dateadd(
                    'month', 1, dbt.date_trunc('month', 'pipeline_date'))) }} as date
            ) as month_end
        from pipeline
        where pipeline_date <= {{ as_of_date() }}
    ) as spans
),

in_month as (
    select
        months.month_start,
        months.day_before,
        months.month_last_day,
        pipeline.pipeline_date,
        pipeline.opportunity_id,
        pipeline.region,
        pipeline.stage,
        pipeline.amount,
        pipeline.expected_close_date,
        pipeline.pipeline_date = months.day_before as is_start_day,
        pipeline.pipeline_date = months.month_last_day as is_end_day,
        row_number() over (
            partition by months.month_start, pipeline.opportunity_id
            order by pipeline.pipeline_date desc
        ) as rn_last
    from pipeline
    inner join months
        on pipeline.pipeline_date between months.day_before and months.month_last_day
),

deal_months as (
    select
        in_month.month_start,
        in_month.opportunity_id,
        max(case when in_month.rn_last = 1 then in_month.region end) as region,
        max(in_month.amount) as amount,
        max(case when in_month.is_start_day then 1 else 0 end) = 1 as open_at_start,
        max(case when in_month.is_end_day then 1 else 0 end) = 1 as open_at_end,
        max(case when in_month.is_start_day then stage_orders.stage_order end)
            as start_stage_order,
        max(case when in_month.is_end_day then stage_orders.stage_order end)
            as end_stage_order,
        max(case when in_month.is_start_day then in_month.expected_close_date end)
            as start_close_date,
        max(case when in_month.is_end_day then in_month.expected_close_date end)
            as end_close_date,
        max(in_month.month_last_day) as month_last_day
    from in_month
    left join stage_orders on in_month.stage = stage_orders.stage
    group by in_month.month_start, in_month.opportunity_id
),

wins as (
    select
        opportunity_id,
        won_date
    from outcomes
    where won_date is not null
),

bucketed as (
    select
        deal_months.month_start as month,
        coalesce(deal_months.region, '{{ unassigned() }}') as region,
        deal_months.amount,
        deal_months.open_at_start,
        deal_months.open_at_end,
        not deal_months.open_at_start as is_created,
        not deal_months.open_at_end
        and coalesce(
            wins.won_date between deal_months.month_start
            and deal_months.month_last_day, false
        ) as is_won,
        not deal_months.open_at_end
        and coalesce(
            wins.won_date not between deal_months.month_start
            and deal_months.month_last_day, true
        ) as is_lost,
        deal_months.open_at_start and deal_months.open_at_end
        and deal_months.end_stage_order > deal_months.start_stage_order as is_advanced,
        deal_months.open_at_start and deal_months.open_at_end
        and {{ dbt.date_trunc('month', 'deal_months.end_close_date') }}
        < {{ dbt.date_trunc('month', 'deal_months.start_close_date') }} as is_pulled_in,
        deal_months.open_at_start and deal_months.open_at_end
        and {{ dbt.date_trunc('month', 'deal_months.end_close_date') }}
        > {{ dbt.date_trunc('month', 'deal_months.start_close_date') }} as is_slipped
    from deal_months
    left join wins on deal_months.opportunity_id = wins.opportunity_id
),

applicability as (
    {{ metric_applicability('pipeline_amount') }}
),

final as (
    select
        bucketed.month,
        bucketed.region,
        {%- for bucket, flag in [
            ('opening', 'open_at_start'), ('created', 'is_created'),
            ('advanced', 'is_advanced'), ('pulled_in', 'is_pulled_in'),
            ('slipped', 'is_slipped'), ('won', 'is_won'), ('lost', 'is_lost'),
            ('closing', 'open_at_end'),
        ] %}
            {{ when_applicable(
                'cast(sum(case when bucketed.' ~ flag ~ ' then bucketed.amount else 0 end)'
                ~ ' as decimal(18, 2))'
            ) }} as {{ bucket }}_amount,
            cast(sum(case when bucketed.{{ flag }} then 1 else 0 end) as bigint)
                as {{ bucket }}_deals
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from bucketed
    cross join applicability
    group by bucketed.month, bucketed.region, applicability.is_applicable
)

select * from final
