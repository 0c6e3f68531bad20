-- The close date each opportunity carried on each day, from OpportunityHistory: one row per
-- opportunity x validity range (business days). The first recorded close date also covers
-- the days before it was recorded; the last one runs open-ended (valid_to null). Several
-- changes on one day: the day's last one counts.
with

history as (
    select * from {{ ref('stg_crm__opportunity_history') }}
),

daily as (
    select
        opportunity_id,
        close_date,
        cast({{ to_local('changed_at') }} as date) as changed_date,
        row_number() over (
            partition by opportunity_id, cast({{ to_local('changed_at') }} as date)
            order by changed_at desc, opportunity_history_id desc
        ) as rn_in_day
    from history
    where not is_deleted and close_date is not null
),

versions as (
    select
        opportunity_id,
        close_date,
        changed_date,
        lead(changed_date) over (partition by opportunity_id order by changed_date)
            as next_changed_date,
        row_number() over (partition by opportunity_id order by changed_date) as version_number
    from daily
    where rn_in_day = 1
),

final as (
    select
        opportunity_id,
        close_date,
        case when version_number = 1 then cast('1900-01-01' as date) else changed_date end
            as valid_from,
        next_changed_date - 1 as valid_to
    from versions
)

select * from final
