-- Per rep and industry: the rep's track record there, the leads they converted and the
-- opportunities they won with customers of that industry, and the industry's rank among the
-- rep's (1 = where the rep converts and wins most; ties by won deals, then by name).
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

-- without Lead.IsConverted the converted leads are unknown (null) and the track record is the
-- won deals alone
applicability as (
    {{ metric_applicability('lead_conversion') }}
),

conversions as (
    select
        reps.rep_id,
        leads.industry,
        count(*) as converted_leads
    from leads
    inner join reps on leads.owner_id = reps.crm_user_id
    where
        leads.is_converted
        and not leads.is_deleted
        and leads.industry is not null
        and leads.converted_date <= {{ as_of_date() }}
    group by reps.rep_id, leads.industry
),

wins as (
    select
        reps.rep_id,
        accounts.industry,
        count(*) as won_deals
    from opportunities
    inner join accounts on opportunities.account_id = accounts.account_id
    inner join reps on opportunities.owner_id = reps.crm_user_id
    where
        opportunities.is_won
        and not opportunities.is_deleted
        and accounts.industry is not null
        and opportunities.close_date <= {{ as_of_date() }}
    group by reps.rep_id, accounts.industry
),

combined as (
    select
        coalesce(conversions.rep_id, wins.rep_id) as rep_id,
        coalesce(conversions.industry, wins.industry) as industry,
        {{ when_applicable('coalesce(conversions.converted_leads, 0)') }} as converted_leads,
        coalesce(wins.won_deals, 0) as won_deals
    from conversions
    full outer join wins
        on conversions.rep_id = wins.rep_id and conversions.industry = wins.industry
    cross join applicability
),

ranked as (
    select
        rep_id,
        industry,
        converted_leads,
        won_deals,
        coalesce(converted_leads, 0) + won_deals as track_record,
        row_number() over (
            partition by rep_id
            order by coalesce(converted_leads, 0) + won_deals desc, won_deals desc, industry asc
        ) as industry_rank
    from combined
)

select * from ranked
