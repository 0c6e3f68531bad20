-- Behaviours against the win rate and cycle of closed deals (the win-behaviour sheet defines
-- them): per region (and 全部, the whole org) x behaviour, the deals with and without it, the
-- win rate of each with its 95 % Wilson score interval, the lift (with minus without) with
-- Newcombe's interval built from the two Wilson intervals, the average cycle of the won deals
-- with and without, and a flag when either group is under behavior_min_n deals.
with

deal_behaviors as (
    select * from {{ ref('int_deal_behaviors') }}
),

behavior_rows as (
    select * from {{ ref('stg_sheets__win_behaviors') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

scoped as (
    select
        region,
        behavior,
        has_behavior,
        is_won,
        cycle_days
    from deal_behaviors
    union all
    select
        '全部' as region,
        behavior,
        has_behavior,
        is_won,
        cycle_days
    from deal_behaviors
),

grouped as (
    select
        region,
        behavior,
        sum(case when has_behavior then 1 else 0 end) as deals_with,
        sum(case when has_behavior and is_won then 1 else 0 end) as won_with,
        sum(case when not has_behavior then 1 else 0 end) as deals_without,
        sum(case when not has_behavior and is_won then 1 else 0 end) as won_without,
        avg(case when has_behavior and is_won then cycle_days end) as won_cycle_days_with,
        avg(case when not has_behavior and is_won then cycle_days end)
            as won_cycle_days_without
    from scoped
    group by region, behavior
),

-- every behaviour of the sheet in every scope with closed deals, with 0 deals where none
-- applies (its anchor stage is not in the company's funnel, or no deal reached it)
scope_behaviors as (
    select distinct
        regions.region,
        behavior_rows.behavior
    from (select distinct region from scoped) as regions
    cross join behavior_rows
),

counted as (
    select
        scope_behaviors.region,
        scope_behaviors.behavior,
        coalesce(grouped.deals_with, 0) as deals_with,
        coalesce(grouped.won_with, 0) as won_with,
        coalesce(grouped.deals_without, 0) as deals_without,
        coalesce(grouped.won_without, 0) as won_without,
        grouped.won_cycle_days_with,
        grouped.won_cycle_days_without
    from scope_behaviors
    left join grouped
        on
            scope_behaviors.region = grouped.region
            and scope_behaviors.behavior = grouped.behavior
),

rated as (
    select
        region,
        behavior,
        deals_with,
        won_with,
        deals_without,
        won_without,
        won_with / nullif(cast(deals_with as double), 0) as win_rate_with,
        {{ wilson_low('won_with', 'deals_with') }} as win_rate_with_low,
        {{ wilson_high('won_with', 'deals_with') }} as win_rate_with_high,
        won_without / nullif(cast(deals_without as double), 0) as win_rate_without,
        {{ wilson_low('won_without', 'deals_without') }} as win_rate_without_low,
        {{ wilson_high('won_without', 'deals_without') }} as win_rate_without_high,
        won_cycle_days_with,
        won_cycle_days_without
    from counted
),

final as (
    select
        {{ dbt.concat(['rated.region', "'|'", 'rated.behavior']) }} as behavior_conversion_id,
        rated.region,
        rated.behavior,
        cast(rated.deals_with + rated.deals_without as integer) as deals,
        cast(rated.deals_with as integer) as deals_with,
        cast(rated.won_with as integer) as won_with,
        cast(rated.deals_without as integer) as deals_without,
        cast(rated.won_without as integer) as won_without,
        rated.win_rate_with,
        rated.win_rate_with_low,
        rated.win_rate_with_high,
        rated.win_rate_without,
        rated.win_rate_without_low,
        rated.win_rate_without_high,
        rated.win_rate_with - rated.win_rate_without as lift,
        rated.win_rate_with - rated.win_rate_without - sqrt(
            power(rated.win_rate_with - rated.win_rate_with_low, 2)
            + power(rated.win_rate_without_high - rated.win_rate_without, 2)
        ) as lift_low,
        rated.win_rate_with - rated.win_rate_without + sqrt(
            power(rated.win_rate_with_high - rated.win_rate_with, 2)
            + power(rated.win_rate_without - rated.win_rate_without_low, 2)
        ) as lift_high,
        rated.won_cycle_days_with,
        rated.won_cycle_days_without,
        cast(settings.behavior_min_n as integer) as min_deals,
        least(rated.deals_with, rated.deals_without) < settings.behavior_min_n as is_small_sample
    from rated
    cross join settings
)

select * from final
