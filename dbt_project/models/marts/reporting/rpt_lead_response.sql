-- The lead-response page: leads by creation day (business time zone), rep and band.
with

lead_response as (
    select * from {{ ref('fct_lead_response') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

aggregated as (
    select
        lead_response.lead_date,
        {{ region_and_rep('lead_response') }},
        lead_response.response_band,
        count(*) as leads,
        cast(
            sum(case when lead_response.responded_within_24h then 1 else 0 end) as bigint
        ) as responded_within_24h,
        cast(
            sum(case when lead_response.touched_within_72h then 1 else 0 end) as bigint
        ) as touched_within_72h,
        cast(coalesce(sum(lead_response.response_hours), 0) as double) as total_response_hours,
        count(lead_response.response_hours) as responded_leads
    from lead_response
    left join reps on lead_response.rep_id = reps.rep_id
    group by 1, 2, 3, 4, 5
)

select * from aggregated
