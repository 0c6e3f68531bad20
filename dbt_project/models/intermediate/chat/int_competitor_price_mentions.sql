-- Texts in which a customer names a competitor (competitors sheet) together with a price word
-- (risk words of type 价格), one row per text: the first competitor and price word by name,
-- with the price word's suggested response. The words a text holds are found once
-- (int_customer_text_keywords). A table: the alerts and the chat-risk signals both read it.
{{ config(materialized='table') }}

with

texts as (
    select * from {{ ref('int_customer_texts_unioned') }}
),

keywords as (
    select * from {{ ref('int_customer_text_keywords') }}
),

risk_words as (
    select * from {{ ref('stg_sheets__risk_words') }}
),

hits as (
    select
        texts.*,
        competitors.keyword as competitor,
        risk_words.keyword as price_keyword,
        risk_words.suggested_action,
        row_number() over (
            partition by texts.text_source, texts.text_id
            order by competitors.keyword, risk_words.keyword
        ) as rn
    from texts
    inner join keywords as competitors
        on
            texts.text_source = competitors.text_source
            and texts.text_id = competitors.text_id
            and competitors.keyword_list = 'competitor'
    inner join keywords as price_words
        on
            texts.text_source = price_words.text_source
            and texts.text_id = price_words.text_id
            and price_words.keyword_list = 'risk_word'
    inner join risk_words
        on price_words.keyword = risk_words.keyword and risk_words.risk_type = '价格'
),

mentions as (
    select
        {{ said_text_columns() }},
        competitor,
        price_keyword,
        suggested_action
    from hits
    where rn = 1
)

select * from mentions
