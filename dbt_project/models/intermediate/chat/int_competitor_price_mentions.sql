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
    inner join competitors on {{ dbt.position('competitors.competitor', 'texts.said_text') }} > 0
    inner join risk_words
        on
            risk_words.risk_type = '价格'
            and {{ dbt.position('risk_words.keyword', 'texts.said_text') }} > 0
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
