-- Which dictionary words each text customers said holds (int_customer_texts_unioned): one row
-- per distinct text (by a hash of its words, text_hash) and risk word or competitor it holds
-- literally (strpos: '%' and '_' are characters), and one row (hit_kind 'scanned', hit '')
-- per distinct text whatever it holds. The chat-risk signals and the competitor-price
-- mentions read what a text holds from here instead of searching every text for every word.
-- Incremental: a run searches only the texts whose words are not here yet (new texts, edited
-- notes) and retracts the texts no longer said (deleted, edited, past the as-of day); what
-- it holds is what a full rebuild holds. A change of the risk-word or competitor sheet
-- rebuilds it from all history (orchestration/defs/transform.py).
{{ config(
    materialized=upsert_materialization(),
    unique_key='text_hash',
    incremental_strategy=upsert_strategy(),
    on_schema_change='fail',
    post_hook="{{ retract_rows('hit_kind') }}",
) }}

with

texts as (
    select * from {{ ref('int_customer_texts_unioned') }}
),

risk_words as (
    select * from {{ ref('stg_sheets__risk_words') }}
),

competitors as (
    select * from {{ ref('stg_sheets__competitors') }}
),

said as (
    select distinct
        text_hash,
        said_text
    from texts
),

{% if is_incremental() -%}
stored as (
    select distinct text_hash from {{ this }}
),

-- a text no longer said: its key with hit_kind null, deleted after the upsert
retracted as (
    select
        stored.text_hash,
        cast(null as {{ dbt.type_string() }}) as hit_kind,
        cast(null as {{ dbt.type_string() }}) as hit
    from stored
    left join said on stored.text_hash = said.text_hash
    where said.text_hash is null
),

{%- endif %}

-- the texts not searched yet (all of them on a rebuild)
to_search as (
    select said.*
    from said
    {%- if is_incremental() %}
        left join stored on said.text_hash = stored.text_hash
        where stored.text_hash is null
    {%- endif %}
),

words as (
    select distinct
        'risk_word' as hit_kind,
        keyword as hit
    from risk_words
    where keyword is not null
    union
    select distinct
        'competitor' as hit_kind,
        competitor as hit
    from competitors
    where competitor is not null
),

found as (
    select
        to_search.text_hash,
        words.hit_kind,
        words.hit
    from to_search
    inner join words on {{ dbt.position('words.hit', 'to_search.said_text') }} > 0
    union all
    select
        text_hash,
        'scanned' as hit_kind,
        '' as hit
    from to_search
),

final as (
    select
        text_hash,
        cast(hit_kind as {{ dbt.type_string() }}) as hit_kind,
        cast(hit as {{ dbt.type_string() }}) as hit
    from found
    {%- if is_incremental() %}
        union all
        select * from retracted
    {%- endif %}
)

select * from final
