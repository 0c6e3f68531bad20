-- Risk signals in what customers said (WeCom messages and CRM notes), one row per text, kind
-- and keyword, each with the dictionary's risk type, level and suggested response:
--   competitor_price   a competitor named with a price word (int_competitor_price_mentions);
--                      high risk
--   vague_commitment   a vague word (risk words of type 含糊承诺: 可能, 尽量, 争取, 再考虑 …)
--                      within vague_commitment_window_days of a stage advance of one of the
--                      customer's deals
--   risk_word          any other risk word of level high or medium (a low word, such as 报价,
--                      is said every day and counts only with a competitor)
-- Keywords match literally (strpos, once per text: int_customer_text_keywords): '%' and '_'
-- in a keyword are characters, not wildcards. A table: the alerts and the chat-risk page both
-- read it.
{{ config(materialized='table') }}

with

texts as (
    select * from {{ ref('int_customer_texts_unioned') }}
),

price_mentions as (
    select * from {{ ref('int_competitor_price_mentions') }}
),

keywords as (
    select * from {{ ref('int_customer_text_keywords') }}
),

risk_words as (
    select * from {{ ref('stg_sheets__risk_words') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

live_deals as (
    select
        opportunity_id,
        account_id,
        created_at
    from opportunities
    where not is_deleted
),

-- the texts a competitor-price or risk-word signal is raised on: only they need their deal
flagged_texts as (
    select
        text_source,
        text_id
    from price_mentions
    union
    select
        keywords.text_source,
        keywords.text_id
    from keywords
    inner join risk_words
        on
            keywords.keyword = risk_words.keyword
            and risk_words.risk_type <> '含糊承诺'
            and risk_words.risk_level in ('high', 'medium')
    where keywords.keyword_list = 'risk_word'
),

-- the deal a text is about: the note's own deal, else the customer's latest deal by then
-- (ranked on the texts' keys alone: the texts themselves join back once)
latest_deals as (
    select
        texts.text_source,
        texts.text_id,
        live_deals.opportunity_id,
        row_number() over (
            partition by texts.text_source, texts.text_id
            order by live_deals.created_at desc, live_deals.opportunity_id asc
        ) as rn
    from texts
    inner join flagged_texts
        on texts.text_source = flagged_texts.text_source and texts.text_id = flagged_texts.text_id
    inner join live_deals
        on
            texts.account_id = live_deals.account_id
            and texts.said_at >= live_deals.created_at
    where texts.opportunity_id is null
),

deal_texts as (
    select
        {{ said_text_columns(
            'texts', 'coalesce(texts.opportunity_id, latest_deals.opportunity_id)'
        ) }}
    from texts
    inner join flagged_texts
        on texts.text_source = flagged_texts.text_source and texts.text_id = flagged_texts.text_id
    left join latest_deals
        on
            texts.text_source = latest_deals.text_source
            and texts.text_id = latest_deals.text_id
            and latest_deals.rn = 1
),

competitor_price as (
    select
        deal_texts.*,
        'competitor_price' as signal_kind,
        price_mentions.competitor || ' + ' || price_mentions.price_keyword as keyword,
        '竞品比价' as risk_type,
        'high' as risk_level,
        price_mentions.suggested_action
    from deal_texts
    inner join price_mentions
        on
            deal_texts.text_source = price_mentions.text_source
            and deal_texts.text_id = price_mentions.text_id
),

advances as (
    select
        live_deals.opportunity_id,
        live_deals.account_id,
        stage_history.entered_at
    from stage_history
    inner join live_deals on stage_history.opportunity_id = live_deals.opportunity_id
    where
        stage_history.stage in ({{ open_stages() }}, {{ won_stages() }})
        and stage_history.stage <> 'lead_confirmed'
),

vague_hits as (
    select
        {{ said_text_columns('texts', 'advances.opportunity_id') }},
        risk_words.keyword,
        risk_words.risk_type,
        risk_words.risk_level,
        risk_words.suggested_action,
        row_number() over (
            partition by texts.text_source, texts.text_id, risk_words.keyword
            order by
                abs({{ seconds_between('advances.entered_at', 'texts.said_at') }}),
                advances.opportunity_id asc
        ) as rn
    from texts
    inner join keywords
        on
            texts.text_source = keywords.text_source
            and texts.text_id = keywords.text_id
            and keywords.keyword_list = 'risk_word'
    inner join risk_words
        on keywords.keyword = risk_words.keyword and risk_words.risk_type = '含糊承诺'
    inner join advances on texts.account_id = advances.account_id
    cross join settings
    where
        abs({{ seconds_between('advances.entered_at', 'texts.said_at') }})
        <= settings.vague_commitment_window_days * 86400
),

vague_commitment as (
    select
        {{ said_text_columns() }},
        'vague_commitment' as signal_kind,
        keyword,
        risk_type,
        risk_level,
        suggested_action
    from vague_hits
    where rn = 1
),

risk_word as (
    select
        deal_texts.*,
        'risk_word' as signal_kind,
        risk_words.keyword,
        risk_words.risk_type,
        risk_words.risk_level,
        risk_words.suggested_action
    from deal_texts
    inner join keywords
        on
            deal_texts.text_source = keywords.text_source
            and deal_texts.text_id = keywords.text_id
            and keywords.keyword_list = 'risk_word'
    inner join risk_words
        on
            keywords.keyword = risk_words.keyword
            and risk_words.risk_type <> '含糊承诺'
            and risk_words.risk_level in ('high', 'medium')
),

unioned as (
    select * from competitor_price
    union all
    select * from vague_commitment
    union all
    select * from risk_word
),

final as (
    select
        -- readable, not hashed: a hash's hex digits can look like a phone number to a reader
        text_source || ':' || text_id || ':' || signal_kind || ':' || keyword as signal_id,
        {{ said_text_columns() }},
        signal_kind,
        keyword,
        risk_type,
        risk_level,
        suggested_action
    from unioned
)

select * from final
