-- Texts in which a customer names a competitor (competitors sheet) together with a price word
-- (risk words of type 价格), one row per text: the first competitor and price word by name,
-- with the price word's suggested response. Keywords match literally (strpos, not LIKE).
with

texts as (
    select * from {{ ref('int_customer_texts_unioned') }}
),

competitors as (
    select * from {{ ref('stg_sheets__competitors') }}
),

keyword_hits as (
    select * from {{ ref('int_text_keyword_hits') }}
),

risk_words as (
    select * from {{ ref('stg_sheets__risk_words') }}
),

hits as (
    select
        texts.*,
        competitors.competitor,
        risk_words.keyword as price_keyword,
        risk_words.suggested_action,
        row_number() over (
            partition by texts.text_source, texts.text_id
            order by competitors.competitor, risk_words.keyword
        ) as rn
    from texts
    inner join keyword_hits as competitor_hits
        on
            texts.text_hash = competitor_hits.text_hash
            and competitor_hits.hit_kind = 'competitor'
    inner join competitors on competitor_hits.hit = competitors.competitor
    inner join keyword_hits as price_hits
        on
            texts.text_hash = price_hits.text_hash
            and price_hits.hit_kind = 'risk_word'
    inner join risk_words
        on
            price_hits.hit = risk_words.keyword
            and risk_words.risk_type = '价格'
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
