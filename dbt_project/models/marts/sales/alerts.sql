-- Open alerts (SPEC §5, §7), one row each, to the rep and the rep's manager. Thresholds come
-- from the settings sheet, keyword lists from the dictionary sheets.
--   stagnation             open deal without substantive, trusted progress > stagnation_alert_days
--                          (escalate > stagnation_escalate_days); WeCom work with the deal's
--                          account counts as progress
--   deal_no_activity       open deal without any activity at all > deal_no_activity_days
--   deal_stalled           open deal longer in its stage than 90% of the deals that left it
--   deal_single_threaded   open deal at single_thread_min_stage_order or later worked with one
--                          contact at most
--   deal_close_pushed      close date moved later close_push_alert_count times or more
--   new_contact_no_material  WeCom customer added > material_window_hours ago who has had no
--                          file nor material message (the material/proposal/quote keywords)
--   response_red           lead untouched past response_red_hours (escalate past the
--                          follow-up window)
--   customer_health_red    customer with an open deal below health_red_below
--   competitor_price       a customer names a competitor and a price word (risk words of type
--                          价格) in chat while the deal is in quote
-- Contacts, leads and mentions older than alert_lookback_days no longer raise alerts (the BI
-- response page keeps the history).
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

opportunity_history as (
    select * from {{ ref('stg_crm__opportunity_history') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

lead_response as (
    select * from {{ ref('fct_lead_response') }}
),

customer_health as (
    select * from {{ ref('fct_customer_health') }}
),

wecom_people as (
    select * from {{ ref('int_wecom_contacts_to_crm') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

external_contacts as (
    select * from {{ ref('stg_wecom__external_contacts') }}
),

messages as (
    select * from {{ ref('stg_wecom__chat_messages') }}
),

effective_actions as (
    select * from {{ ref('stg_sheets__effective_actions') }}
),

competitors as (
    select * from {{ ref('stg_sheets__competitors') }}
),

risk_words as (
    select * from {{ ref('stg_sheets__risk_words') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

current_stage as (
    select
        opportunity_id,
        stage,
        stage_order,
        entered_at,
        dwell_days
    from stage_history
    where exited_at is null
),

open_deals as (
    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.account_id,
        opportunities.owner_id,
        opportunities.created_at,
        current_stage.stage,
        current_stage.stage_order,
        current_stage.entered_at as stage_entered_at,
        current_stage.dwell_days as stage_days
    from opportunities
    inner join current_stage on opportunities.opportunity_id = current_stage.opportunity_id
    where
        not opportunities.is_closed
        and not opportunities.is_deleted
        and current_stage.stage in ({{ open_stages() }})
        and opportunities.created_at <= {{ as_of_end() }}
),

live_activities as (
    select *
    from activities
    where not is_deleted and occurred_at <= {{ as_of_end() }}
),

-- every live activity of a deal: on the deal itself, or work with its account not tied to a
-- deal (WeCom). Two equi-joins: one join on "deal or account" cannot use a hash join.
deal_activities as (
    select
        open_deals.opportunity_id,
        live_activities.who_id,
        live_activities.occurred_at,
        live_activities.is_substantive and live_activities.is_trusted as is_progress
    from open_deals
    inner join live_activities
        on
            open_deals.opportunity_id = live_activities.what_id
            and open_deals.created_at <= live_activities.occurred_at
    union all
    select
        open_deals.opportunity_id,
        live_activities.who_id,
        live_activities.occurred_at,
        live_activities.is_substantive and live_activities.is_trusted as is_progress
    from open_deals
    inner join live_activities
        on
            open_deals.account_id = live_activities.account_id
            and open_deals.created_at <= live_activities.occurred_at
    where live_activities.what_id is null
),

deal_activity_summary as (
    select
        open_deals.opportunity_id,
        max(case when deal_activities.is_progress then deal_activities.occurred_at end)
            as last_progress_at,
        max(deal_activities.occurred_at) as last_activity_at,
        count(distinct deal_activities.who_id) as contacts_engaged
    from open_deals
    left join deal_activities on open_deals.opportunity_id = deal_activities.opportunity_id
    group by open_deals.opportunity_id
),

dated_deals as (
    select
        open_deals.*,
        coalesce(deal_activity_summary.last_progress_at, open_deals.created_at)
            as last_progress_at,
        coalesce(deal_activity_summary.last_activity_at, open_deals.created_at)
            as last_activity_at,
        deal_activity_summary.contacts_engaged
    from open_deals
    inner join deal_activity_summary
        on open_deals.opportunity_id = deal_activity_summary.opportunity_id
),

deals as (
    select
        *,
        {{ seconds_between('last_progress_at', as_of_end()) }} / 86400.0 as progress_idle_days,
        {{ seconds_between('last_activity_at', as_of_end()) }} / 86400.0 as activity_idle_days
    from dated_deals
),

stagnation as (
    select
        'stagnation' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        case
            when deals.progress_idle_days > settings.stagnation_escalate_days then 'escalate'
            else 'warning'
        end as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」已 '
        || cast(cast(floor(deals.progress_idle_days) as integer) as varchar)
        || ' 天没有实质跟进' as message,
        deals.last_progress_at as since
    from deals
    cross join settings
    where deals.progress_idle_days > settings.stagnation_alert_days
),

deal_no_activity as (
    select
        'deal_no_activity' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'warning' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」已 '
        || cast(cast(floor(deals.activity_idle_days) as integer) as varchar)
        || ' 天没有任何活动记录' as message,
        deals.last_activity_at as since
    from deals
    cross join settings
    where deals.activity_idle_days > settings.deal_no_activity_days
),

stage_p90 as (
    select
        stage,
        percentile_cont(0.9) within group (order by dwell_days) as p90_dwell_days,
        count(*) as completed
    from stage_history
    where exited_at is not null
    group by stage
),

deal_stalled as (
    select
        'deal_stalled' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'warning' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」在当前阶段已 '
        || cast(cast(floor(deals.stage_days) as integer) as varchar)
        || ' 天，超过 90% 同阶段商机（'
        || cast(cast(ceil(stage_p90.p90_dwell_days) as integer) as varchar) || ' 天）'
            as message,
        deals.stage_entered_at as since
    from deals
    inner join stage_p90 on deals.stage = stage_p90.stage
    where deals.stage_days > stage_p90.p90_dwell_days and stage_p90.completed >= 5
),

deal_single_threaded as (
    select
        'deal_single_threaded' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'info' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」已到后期阶段，只联系过 '
        || cast(deals.contacts_engaged as varchar) || ' 位客户联系人' as message,
        deals.stage_entered_at as since
    from deals
    cross join settings
    where
        deals.stage_order >= settings.single_thread_min_stage_order
        and deals.contacts_engaged <= 1
),

close_dates as (
    select
        opportunity_history.opportunity_id,
        opportunity_history.close_date,
        opportunity_history.changed_at,
        lag(opportunity_history.close_date) over (
            partition by opportunity_history.opportunity_id
            order by opportunity_history.changed_at, opportunity_history.opportunity_history_id
        ) as previous_close_date
    from opportunity_history
    where
        not opportunity_history.is_deleted
        and opportunity_history.changed_at <= {{ as_of_end() }}
),

pushes as (
    select
        opportunity_id,
        count(*) as times_pushed,
        max(changed_at) as last_pushed_at
    from close_dates
    where close_date > previous_close_date
    group by opportunity_id
),

deal_close_pushed as (
    select
        'deal_close_pushed' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'warning' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」预计成交日已推迟 '
        || cast(pushes.times_pushed as varchar) || ' 次' as message,
        pushes.last_pushed_at as since
    from deals
    inner join pushes on deals.opportunity_id = pushes.opportunity_id
    cross join settings
    where pushes.times_pushed >= settings.close_push_alert_count
),

material_keywords as (
    select keyword
    from effective_actions
    where activity_type in ('material', 'proposal', 'quote')
),

material_sent as (
    select distinct messages.recipient_id as external_userid
    from messages
    inner join reps on messages.sender_id = reps.wecom_userid
    left join material_keywords
        on strpos(coalesce(messages.content, ''), material_keywords.keyword) > 0
    where
        messages.sent_at <= {{ as_of_end() }}
        and (messages.message_type = 'file' or material_keywords.keyword is not null)
),

new_contact_no_material as (
    select
        'new_contact_no_material' as alert_type,
        -- the WeCom customer's id never leaves the warehouse: a pseudonym stands for it
        {{ pseudonym('wx_', 'external_contacts.external_userid') }} as entity_id,
        reps.crm_user_id as owner_id,
        'warning' as severity,
        cast(null as varchar) as stage,
        '企业微信新客户（' || coalesce(external_contacts.company_name, '未知公司')
        || '）添加超过 ' || cast(cast(settings.material_window_hours as integer) as varchar)
        || ' 小时仍未发送资料' as message,
        external_contacts.added_at as since
    from external_contacts
    inner join reps on external_contacts.wecom_userid = reps.wecom_userid
    cross join settings
    left join material_sent
        on external_contacts.external_userid = material_sent.external_userid
    where
        material_sent.external_userid is null
        and external_contacts.added_at <= {{ as_of_end() }}
        and {{ seconds_between('external_contacts.added_at', as_of_end()) }} / 3600.0
        > settings.material_window_hours
        and external_contacts.added_at > {{ dbt.dateadd(
            'day', '-1 * cast(settings.alert_lookback_days as integer)', as_of_end()) }}
),

response_red as (
    select
        'response_red' as alert_type,
        lead_response.lead_id as entity_id,
        lead_response.crm_owner_id as owner_id,
        case
            when
                {{ seconds_between('lead_response.assigned_at', as_of_end()) }} / 3600.0
                > settings.followup_window_hours
                then 'escalate'
            else 'warning'
        end as severity,
        cast(null as varchar) as stage,
        '线索分配后超过 ' || cast(cast(settings.response_red_hours as integer) as varchar)
        || ' 小时仍未跟进' as message,
        lead_response.assigned_at as since
    from lead_response
    cross join settings
    where
        lead_response.response_band = 'red'
        and lead_response.first_touch_at is null
        and not lead_response.converted
        and lead_response.assigned_at > {{ dbt.dateadd(
            'day', '-1 * cast(settings.alert_lookback_days as integer)', as_of_end()) }}
),

customer_health_red as (
    select
        'customer_health_red' as alert_type,
        customer_health.crm_account_id as entity_id,
        reps.crm_user_id as owner_id,
        'warning' as severity,
        cast(null as varchar) as stage,
        '客户「' || customer_health.customer_name || '」健康度 '
        || cast(cast(round(customer_health.health_score) as integer) as varchar) || ' 分'
            as message,
        coalesce(customer_health.last_interaction_at, accounts.created_at) as since
    from customer_health
    inner join reps on customer_health.rep_id = reps.rep_id
    inner join accounts on customer_health.crm_account_id = accounts.account_id
    where customer_health.is_red
),

customer_people as (
    select
        external_userid,
        account_id
    from wecom_people
    where account_id is not null
),

competitor_mentions as (
    select
        customer_people.account_id,
        min(competitors.competitor) as competitor,
        max(messages.sent_at) as mentioned_at
    from messages
    inner join customer_people on messages.sender_id = customer_people.external_userid
    inner join competitors on strpos(coalesce(messages.content, ''), competitors.competitor) > 0
    inner join risk_words
        on
            risk_words.risk_type = '价格'
            and strpos(coalesce(messages.content, ''), risk_words.keyword) > 0
    cross join settings
    where
        messages.sent_at <= {{ as_of_end() }}
        and messages.sent_at > {{ dbt.dateadd(
            'day', '-1 * cast(settings.alert_lookback_days as integer)', as_of_end()) }}
    group by customer_people.account_id
),

competitor_price as (
    select
        'competitor_price' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'warning' as severity,
        deals.stage,
        '报价阶段的商机「' || deals.opportunity_name || '」客户提到竞品'
        || competitor_mentions.competitor || '的价格' as message,
        competitor_mentions.mentioned_at as since
    from deals
    inner join competitor_mentions on deals.account_id = competitor_mentions.account_id
    where
        deals.stage = 'quote_negotiation'
        and competitor_mentions.mentioned_at >= deals.stage_entered_at
),

unioned as (
    select * from stagnation
    union all
    select * from deal_no_activity
    union all
    select * from deal_stalled
    union all
    select * from deal_single_threaded
    union all
    select * from deal_close_pushed
    union all
    select * from new_contact_no_material
    union all
    select * from response_red
    union all
    select * from customer_health_red
    union all
    select * from competitor_price
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
        {{ seconds_between('unioned.since', as_of_end()) }} / 86400.0 as idle_days,
        unioned.since
    from unioned
    left join reps on unioned.owner_id = reps.crm_user_id
)

select * from final
