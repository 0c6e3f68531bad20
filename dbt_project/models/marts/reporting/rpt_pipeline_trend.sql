-- The open pipeline day by day per region (overview trend and KPI tiles).
with

pipeline as (
    select * from {{ ref('fct_pipeline_daily') }}
),

final as (
    select
        pipeline_date,
        coalesce(region, '{{ unassigned() }}') as region,
        cast(count(*) as bigint) as open_deals,
        cast(sum(amount) as decimal(18, 2)) as open_amount,
        cast(sum(weighted_amount) as decimal(18, 2)) as weighted_amount
    from pipeline
    group by pipeline_date, coalesce(region, '{{ unassigned() }}')
)

select * from final
