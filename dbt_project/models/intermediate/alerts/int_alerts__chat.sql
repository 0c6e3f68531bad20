-- Alerts from what customers said in WeCom within alert_lookback_days, on open deals:
--   competitor_price   a customer names a competitor and a price word while the deal is in
--                      quote (int_competitor_price_mentions)
--   chat_risk          a high-risk signal of the chat-risk rules (vague commitment near a
--                      stage advance, a high-risk dictionary word) in WeCom or a CRM note; the
--                      latest one is the message. Competitor + price keeps its own alert.
with

deals as (
    select * from {{ ref('int_open_deals_dated') }}
),

price_mentions as (
    select * from {{ ref('int_competitor_price_mentions') }}
),

signals as (
    select * from {{ ref('int_chat_risk_signals') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

competitor_mentions as (
    select
        price_mentions.account_id,
        min(price_mentions.competitor) as competitor,
        max(price_mentions.said_at) as mentioned_at
    from price_mentions
    cross join settings
    where
        price_mentions.text_source = 'wecom'
        and price_mentions.account_id is not null
        and price_mentions.said_at > {{ dbt.dateadd(
            'day', '-1 * cast(settings.alert_lookback_days as integer)', as_of_end()) }}
    group by price_mentions.account_id
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

recent_high as (
    select
        signals.opportunity_id,
        signals.risk_type,
        signals.keyword,
        signals.suggested_action,
        signals.said_at,
        row_number() over (
            partition by signals.opportunity_id
            order by signals.said_at desc, signals.signal_id asc
        ) as rn
    from signals
    cross join settings
    where
        signals.risk_level = 'high'
        and signals.signal_kind <> 'competitor_price'
        and signals.said_at > {{ dbt.dateadd(
            'day', '-1 * cast(settings.alert_lookback_days as integer)', as_of_end()) }}
),

chat_risk as (
    select
        'chat_risk' as alert_type,
        deals.opportunity_id as entity_id,
        deals.owner_id,
        'warning' as severity,
        deals.stage,
        '商机「' || deals.opportunity_name || '」客户沟通出现高风险信号（'
        || recent_high.risk_type || '：「' || recent_high.keyword || '」），建议：'
        || coalesce(recent_high.suggested_action, '与客户确认顾虑') as message,
        recent_high.said_at as since
    from deals
    inner join recent_high on deals.opportunity_id = recent_high.opportunity_id
    where recent_high.rn = 1
),

unioned as (
    select * from competitor_price
    union all
    select * from chat_risk
)

select * from unioned
