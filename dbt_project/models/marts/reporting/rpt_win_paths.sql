-- 攻单地图: per region (and 全部), industry and deal-size band (and 全部), the most common
-- paths of the won deals — their steps in order with the average day of the deal each came on
-- (row_kind step_path, the win_path_top_n most common) — and where the lost deals left the most
-- common one: the first of its steps a lost deal did not take at that point (row_kind
-- lost_exit; 走完路径仍输单 when a lost deal took them all). Groups under behavior_min_n deals
-- are flagged.
with

deal_steps as (
    select * from {{ ref('int_deal_steps_sequenced') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

deal_paths as (
    select
        region,
        industry,
        size_band,
        opportunity_id,
        {{ dbt.listagg('step_name', "' → '", 'order by step_position') }} as step_path,
        count(*) as step_count
    from deal_steps
    where is_won and step_name is not null
    group by region, industry, size_band, opportunity_id
),

path_counts as (
    select
        region,
        industry,
        size_band,
        step_path,
        max(step_count) as step_count,
        count(*) as won_deals,
        sum(count(*)) over (partition by region, industry, size_band) as group_won_deals,
        row_number() over (
            partition by region, industry, size_band order by count(*) desc, step_path
        ) as path_rank
    from deal_paths
    group by region, industry, size_band, step_path
),

top_paths as (
    select path_counts.*
    from path_counts
    cross join settings
    where path_counts.path_rank <= settings.win_path_top_n
),

top_path_steps as (
    select
        top_paths.region,
        top_paths.industry,
        top_paths.size_band,
        top_paths.step_path,
        top_paths.path_rank,
        deal_steps.step_position,
        deal_steps.step_name,
        avg(deal_steps.step_day) as step_day
    from top_paths
    inner join deal_paths
        on
            top_paths.region = deal_paths.region
            and top_paths.industry = deal_paths.industry
            and top_paths.size_band = deal_paths.size_band
            and top_paths.step_path = deal_paths.step_path
    inner join deal_steps
        on
            deal_paths.region = deal_steps.region
            and deal_paths.size_band = deal_steps.size_band
            and deal_paths.opportunity_id = deal_steps.opportunity_id
    group by
        top_paths.region, top_paths.industry, top_paths.size_band, top_paths.step_path,
        top_paths.path_rank, deal_steps.step_position, deal_steps.step_name
),

timings as (
    select
        region,
        industry,
        size_band,
        path_rank,
        {{ dbt.listagg(
            dbt.concat(['step_name', "'（第'", 'cast(cast(round(step_day) as integer) as string)',
                        "'天）'"]),
            "' → '", 'order by step_position') }} as path_timing
    from top_path_steps
    group by region, industry, size_band, path_rank
),

-- lost deals set against the most common winning step_path of their group
lost_deals as (
    select distinct
        region,
        industry,
        size_band,
        opportunity_id
    from deal_steps
    where not is_won
),

lost_checked as (
    select
        lost_deals.region,
        lost_deals.industry,
        lost_deals.size_band,
        lost_deals.opportunity_id,
        min(
            case when taken.opportunity_id is null then top_path_steps.step_position end
        ) as left_at_position
    from lost_deals
    inner join top_path_steps
        on
            lost_deals.region = top_path_steps.region
            and lost_deals.industry = top_path_steps.industry
            and lost_deals.size_band = top_path_steps.size_band
            and top_path_steps.path_rank = 1
    left join deal_steps as taken
        on
            lost_deals.region = taken.region
            and lost_deals.size_band = taken.size_band
            and lost_deals.opportunity_id = taken.opportunity_id
            and top_path_steps.step_position = taken.step_position
            and top_path_steps.step_name = taken.step_name
    group by
        lost_deals.region, lost_deals.industry, lost_deals.size_band, lost_deals.opportunity_id
),

lost_exits as (
    select
        lost_checked.region,
        lost_checked.industry,
        lost_checked.size_band,
        lost_checked.left_at_position,
        coalesce(top_path_steps.step_name, '走完路径仍输单') as left_at_step,
        count(*) as lost_deals,
        sum(count(*)) over (
            partition by lost_checked.region, lost_checked.industry, lost_checked.size_band
        ) as group_lost_deals
    from lost_checked
    left join top_path_steps
        on
            lost_checked.region = top_path_steps.region
            and lost_checked.industry = top_path_steps.industry
            and lost_checked.size_band = top_path_steps.size_band
            and lost_checked.left_at_position = top_path_steps.step_position
            and top_path_steps.path_rank = 1
    group by
        lost_checked.region, lost_checked.industry, lost_checked.size_band,
        lost_checked.left_at_position, top_path_steps.step_name
),

path_rows as (
    select
        top_paths.region,
        top_paths.industry,
        top_paths.size_band,
        'path' as row_kind,
        top_paths.path_rank,
        top_paths.step_path,
        timings.path_timing,
        top_paths.step_count,
        cast(null as string) as left_at_step,
        cast(null as bigint) as left_at_position,
        top_paths.won_deals as deals,
        top_paths.group_won_deals as group_deals
    from top_paths
    inner join timings
        on
            top_paths.region = timings.region
            and top_paths.industry = timings.industry
            and top_paths.size_band = timings.size_band
            and top_paths.path_rank = timings.path_rank
),

exit_rows as (
    select
        lost_exits.region,
        lost_exits.industry,
        lost_exits.size_band,
        'lost_exit' as row_kind,
        row_number() over (
            partition by lost_exits.region, lost_exits.industry, lost_exits.size_band
            order by lost_exits.lost_deals desc, lost_exits.left_at_position asc
        ) as path_rank,
        path_rows.step_path,
        path_rows.path_timing,
        path_rows.step_count,
        lost_exits.left_at_step,
        lost_exits.left_at_position,
        lost_exits.lost_deals as deals,
        lost_exits.group_lost_deals as group_deals
    from lost_exits
    inner join path_rows
        on
            lost_exits.region = path_rows.region
            and lost_exits.industry = path_rows.industry
            and lost_exits.size_band = path_rows.size_band
            and path_rows.path_rank = 1
),

unioned as (
    select * from path_rows
    union all
    select * from exit_rows
),

final as (
    select
        {{ dbt.concat([
            'unioned.region', "'|'", 'unioned.industry', "'|'", 'unioned.size_band', "'|'",
            'unioned.row_kind', "'|'", 'cast(unioned.path_rank as string)']) }}
            as win_path_id,
        unioned.region,
        unioned.industry,
        unioned.size_band,
        unioned.row_kind,
        unioned.step_path,
        unioned.path_timing,
        unioned.left_at_step,
        cast(unioned.path_rank as integer) as path_rank,
        cast(unioned.step_count as integer) as step_count,
        cast(unioned.left_at_position as integer) as left_at_position,
        cast(unioned.deals as integer) as deals,
        cast(unioned.group_deals as integer) as group_deals,
        unioned.deals / cast(unioned.group_deals as double) as deal_share,
        unioned.group_deals < settings.behavior_min_n as is_small_sample
    from unioned
    cross join settings
)

select * from final
