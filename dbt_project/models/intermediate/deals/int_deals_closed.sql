-- Closed opportunities as the behaviour and win-path marts read them: closed and won by the
-- CRM's flags, dated by the first entry into a won stage or into lost (int_deal_outcomes; the
-- CRM close date when the history has none),
-- its cycle in days, its industry and deal-size band (bands from the settings sheet).
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

outcomes as (
    select * from {{ ref('int_deal_outcomes') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

closed as (
    select
        opportunities.opportunity_id,
        opportunities.account_id,
        coalesce(reps.rep_id, opportunities.owner_id) as rep_id,
        coalesce(reps.region, '{{ unknown_region() }}') as region,
        coalesce(nullif(trim(accounts.industry), ''), '未填写行业') as industry,
        opportunities.amount,
        opportunities.is_won,
        opportunities.created_at,
        coalesce(
            case when opportunities.is_won then outcomes.won_at else outcomes.lost_at end,
            {{ to_utc('cast(opportunities.close_date as timestamp)') }}
        ) as closed_at
    from opportunities
    left join accounts on opportunities.account_id = accounts.account_id
    left join outcomes on opportunities.opportunity_id = outcomes.opportunity_id
    left join reps on opportunities.owner_id = reps.crm_user_id
    where opportunities.is_closed and not opportunities.is_deleted
),

final as (
    select
        closed.opportunity_id,
        closed.account_id,
        closed.rep_id,
        closed.region,
        closed.industry,
        case
            when closed.amount is null then '未填金额'
            when closed.amount < settings.deal_band_small_below then '小单'
            when closed.amount >= settings.deal_band_large_from then '大单'
            else '中单'
        end as size_band,
        closed.amount,
        {{ days_between('closed.created_at', 'closed.closed_at') }} as cycle_days,
        closed.is_won,
        closed.created_at,
        closed.closed_at
    from closed
    cross join settings
    where closed.closed_at is not null
)

select * from final
