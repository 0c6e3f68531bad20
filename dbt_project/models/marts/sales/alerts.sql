-- Open alerts (SPEC §5, §7), one row each, to the rep and the rep's manager: the alert families
-- of intermediate/alerts unioned. Thresholds come from the settings sheet, keyword lists from
-- the dictionary sheets.
--   int_alerts__deal_idle        stagnation, deal_no_activity
--   int_alerts__deal_health      deal_stalled, deal_single_threaded, deal_close_pushed
--   int_alerts__new_contact      new_contact_no_material
--   int_alerts__lead_response    response_red
--   int_alerts__customer_health  customer_health_red
--   int_alerts__chat             competitor_price, chat_risk
-- Contacts, leads and mentions older than alert_lookback_days no longer raise alerts (the BI
-- response page keeps the history).
with

deal_idle as (
    select * from {{ ref('int_alerts__deal_idle') }}
),

deal_health as (
    select * from {{ ref('int_alerts__deal_health') }}
),

new_contact as (
    select * from {{ ref('int_alerts__new_contact') }}
),

lead_response as (
    select * from {{ ref('int_alerts__lead_response') }}
),

customer_health as (
    select * from {{ ref('int_alerts__customer_health') }}
),

chat as (
    select * from {{ ref('int_alerts__chat') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

unioned as (
    select * from deal_idle
    union all
    select * from deal_health
    union all
    select * from new_contact
    union all
    select * from lead_response
    union all
    select * from customer_health
    union all
    select * from chat
),

final as (
    select
        unioned.alert_type || ':' || unioned.entity_id as alert_id,
        unioned.alert_type,
        reps.rep_id,
        reps.manager_id,
        unioned.entity_id,
        reps.region,
        unioned.severity,
        unioned.stage,
        unioned.message,
        {{ days_between('unioned.since', as_of_end()) }} as idle_days,
        unioned.since
    from unioned
    left join reps on unioned.owner_id = reps.crm_user_id
)

select * from final
