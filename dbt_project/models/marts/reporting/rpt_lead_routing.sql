-- The lead-routing page: for every open lead that is unassigned (in a queue) or new (not
-- touched yet), the recommended rep and why. Candidates are the active reps of the lead's
-- region (every region's for a queued lead). A rep is available while their effective visits
-- (substantive CRM visits) in the last routing_load_window_days stay under
-- routing_load_max_visits; among the available reps (all, when none is) the one with the best
-- track record in the lead's industry (leads converted + deals won) comes first, then the
-- lighter load. The reason names the
-- load, whether the industry is among the rep's top routing_top_industries won industries,
-- and the product line (U8 inventory code) the rep sold most last month.
with

leads as (
    select * from {{ ref('int_leads_scored_with_response') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

industry_wins as (
    select * from {{ ref('int_rep_industry_wins') }}
),

orders as (
    select * from {{ ref('stg_u8__sales_orders') }}
),

order_lines as (
    select * from {{ ref('stg_u8__sales_order_lines') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

applicability as (
    {{ metric_applicability('lead_conversion') }}
),

to_route as (
    select
        lead_id,
        region,
        industry,
        grade,
        score,
        case when rep_id is null then '未分配' else '新线索' end as routing_reason,
        rep_id as current_rep_id
    from leads
    where is_open and (rep_id is null or first_touch_at is null)
),

candidates as (
    select
        rep_id,
        rep_name,
        region,
        crm_user_id,
        u8_person_code
    from reps
    where is_active and rep_role = 'rep'
),

loads as (
    select
        candidates.rep_id,
        count(activities.activity_id) as recent_visits
    from candidates
    cross join settings
    left join activities
        on
            candidates.rep_id = activities.rep_id
            and activities.source_table = 'events'
            and activities.activity_type = '拜访'
            and activities.is_substantive
            and not activities.is_deleted
            and activities.occurred_at <= {{ as_of_end() }}
            and activities.occurred_at > {{ dbt.dateadd(
                'day', '-1 * cast(settings.routing_load_window_days as integer)',
                as_of_end()) }}
    group by candidates.rep_id
),

last_month_lines as (
    select
        candidates.rep_id,
        order_lines.inventory_code,
        sum(order_lines.net_amount) as net_amount
    from orders
    inner join order_lines on orders.sales_order_id = order_lines.sales_order_id
    inner join candidates on orders.u8_person_code = candidates.u8_person_code
    where
        orders.order_date >= {{ dbt.dateadd('month', -1, dbt.date_trunc('month', as_of_date())) }}
        and orders.order_date < {{ dbt.date_trunc('month', as_of_date()) }}
    group by candidates.rep_id, order_lines.inventory_code
),

top_lines as (
    select
        rep_id,
        inventory_code
    from (
        select
            rep_id,
            inventory_code,
            row_number() over (
                partition by rep_id order by net_amount desc, inventory_code asc
            ) as line_rank
        from last_month_lines
    ) as ranked_lines
    where line_rank = 1
),

-- the recommendation depends on the lead's industry and its candidates alone (its region's
-- reps, or every region's for a queued lead): ranked once per such key, not once per lead
routing_keys as (
    select distinct
        current_rep_id is null as is_queued,
        case when current_rep_id is not null then region end as lead_region,
        industry
    from to_route
),

pairs as (
    select
        routing_keys.is_queued,
        routing_keys.lead_region,
        routing_keys.industry,
        candidates.rep_id,
        candidates.rep_name,
        candidates.region,
        loads.recent_visits,
        loads.recent_visits < settings.routing_load_max_visits as is_available,
        coalesce(industry_wins.won_deals, 0) as industry_won_deals,
        -- null without Lead.IsConverted: unknown, not 0
        {{ when_applicable('coalesce(industry_wins.converted_leads, 0)') }}
            as industry_converted_leads,
        coalesce(industry_wins.track_record, 0) as track_record,
        coalesce(industry_wins.industry_rank <= settings.routing_top_industries, false)
            as is_top_industry,
        top_lines.inventory_code as last_month_product
    from routing_keys
    inner join candidates
        on routing_keys.lead_region = candidates.region or routing_keys.is_queued
    inner join loads on candidates.rep_id = loads.rep_id
    cross join settings
    cross join applicability
    left join industry_wins
        on
            candidates.rep_id = industry_wins.rep_id
            and routing_keys.industry = industry_wins.industry
    left join top_lines on candidates.rep_id = top_lines.rep_id
),

ranked as (
    select
        pairs.*,
        row_number() over (
            partition by pairs.is_queued, pairs.lead_region, pairs.industry
            order by
                pairs.is_available desc,
                pairs.track_record desc,
                pairs.industry_won_deals desc,
                pairs.recent_visits asc,
                pairs.rep_id asc
        ) as candidate_rank,
        count(*) over (
            partition by pairs.is_queued, pairs.lead_region, pairs.industry
        ) as candidates
    from pairs
),

best as (
    select * from ranked
    where candidate_rank = 1
),

recommended as (
    select
        to_route.lead_id,
        best.region,
        best.rep_id,
        best.rep_name,
        to_route.current_rep_id,
        to_route.industry,
        to_route.grade,
        to_route.routing_reason,
        best.last_month_product,
        {{ dbt.concat([
            "'近期有效拜访 '",
            dbt.safe_cast('best.recent_visits', api.Column.translate_type('string')),
            "case when best.is_available then '（有空）' else '（繁忙）' end",
            "case when best.is_top_industry then '；' || coalesce(best.industry, '') || "
            ~ "' 是其赢单前列行业（' || coalesce('转化 ' || "
            ~ dbt.safe_cast('best.industry_converted_leads', api.Column.translate_type('string'))
            ~ " || ' 条，', '') || '赢单 ' || "
            ~ dbt.safe_cast('best.industry_won_deals', api.Column.translate_type('string'))
            ~ " || ' 单）' else '；该行业不在其赢单前列' end",
            "case when best.last_month_product is not null then '；上月主销 ' || "
            ~ "best.last_month_product else '；上月无销售订单' end",
        ]) }} as reason,
        cast(to_route.score as integer) as score,
        cast(best.recent_visits as integer) as recent_visits,
        cast(best.industry_converted_leads as integer) as industry_converted_leads,
        cast(best.industry_won_deals as integer) as industry_won_deals,
        cast(best.candidates as integer) as candidates,
        best.is_available,
        best.is_top_industry
    from to_route
    inner join best
        on
            (to_route.current_rep_id is null) = best.is_queued
            and (best.is_queued or to_route.region = best.lead_region)
            and to_route.industry is not distinct from best.industry
)

select * from recommended
