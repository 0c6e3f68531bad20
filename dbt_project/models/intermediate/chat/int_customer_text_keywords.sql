-- Which dictionary keywords each text holds: one row per text (a WeCom text message, a CRM
-- task or event note) and competitor name or risk word (competitors sheet, 风险词典) found in
-- it, literally (strpos: '%' and '_' in a keyword are characters, not wildcards). Every text
-- is scanned, whoever said it and whatever it is linked to: who the sender is, the deal, the
-- rep and the as-of day are joined afresh downstream (int_customer_texts_unioned), since they
-- change while the words do not.
-- Incremental: a run scans only the texts new or changed since the last one: WeCom messages
-- from the archive's sequence number of the newest message holding a keyword on (the archive
-- only grows, in sequence, and an archived message is never edited: a recall is a message of
-- its own), CRM notes changed from late_arriving_days before the newest change of a note
-- holding a keyword (an edit or a deletion stamps the note). The keywords of a text scanned
-- again and no longer found, and those of a CRM note no longer there (deleted, emptied), are
-- retracted: written with keyword null, which the post-hook deletes. After a change of a
-- dictionary sheet (or of any sheet the notes' timeline reads) the run rebuilds it from all
-- history (orchestration/defs/transform.py), as does the periodic full build.
{{ config(
    materialized=upsert_materialization(),
    unique_key='keyword_hit_id',
    incremental_strategy=upsert_strategy(),
    on_schema_change='fail',
    post_hook="{{ retract_rows('keyword') }}",
) }}

with

messages as (
    select * from {{ ref('stg_wecom__chat_messages') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

competitors as (
    select * from {{ ref('stg_sheets__competitors') }}
),

risk_words as (
    select * from {{ ref('stg_sheets__risk_words') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

texts as (
    select
        'wecom' as text_source,
        message_id as text_id,
        content as said_text,
        seq as text_seq,
        cast(null as {{ timestamptz_type() }}) as text_changed_at
    from messages
    where message_type = 'text' and nullif(trim(content), '') is not null
    union all
    select
        'crm_note' as text_source,
        activity_id as text_id,
        description as said_text,
        cast(null as bigint) as text_seq,
        changed_at as text_changed_at
    from activities
    where
        source_table in ('tasks', 'events')
        and not is_deleted
        and nullif(trim(description), '') is not null
),

-- scan from here on (null: everything, as on the first run or a full refresh)
watermark as (
    select
        {% if is_incremental() -%}
            (
                select max(stored.text_seq) from {{ this }} as stored
                where stored.text_source = 'wecom'
            ) as seq_from,
            {{ dbt.dateadd(
                'day', '-1 * cast(settings.late_arriving_days as integer)',
                "(select max(stored.text_changed_at) from " ~ this ~ " as stored"
                ~ " where stored.text_source = 'crm_note')") }} as changed_from
        {%- else -%}
            cast(null as bigint) as seq_from,
            cast(null as {{ timestamptz_type() }}) as changed_from
        {%- endif %}
    from settings
),

scoped as (
    select
        texts.*,
        coalesce(
            case texts.text_source
                when 'wecom' then texts.text_seq >= watermark.seq_from
                else texts.text_changed_at >= watermark.changed_from
            end,
            true
        ) as is_scanned
    from texts
    cross join watermark
),

to_scan as (
    select * from scoped
    where is_scanned
),

found as (
    -- a message to several recipients is one text
    select distinct
        to_scan.text_source,
        to_scan.text_id,
        'competitor' as keyword_list,
        competitors.competitor as keyword,
        to_scan.text_seq,
        to_scan.text_changed_at
    from to_scan
    inner join competitors on {{ dbt.position('competitors.competitor', 'to_scan.said_text') }} > 0
    union all
    select distinct
        to_scan.text_source,
        to_scan.text_id,
        'risk_word' as keyword_list,
        risk_words.keyword,
        to_scan.text_seq,
        to_scan.text_changed_at
    from to_scan
    inner join risk_words on {{ dbt.position('risk_words.keyword', 'to_scan.said_text') }} > 0
),

hits as (
    select
        text_source || ':' || text_id || ':' || keyword_list || ':' || keyword as keyword_hit_id,
        text_source,
        text_id,
        keyword_list,
        keyword,
        text_seq,
        text_changed_at
    from found
),

final as (
    select * from hits
    {% if is_incremental() -%}
        -- keywords found before and not now: their text was scanned again, or is gone
        union all
        select
            stored.keyword_hit_id,
            stored.text_source,
            stored.text_id,
            stored.keyword_list,
            cast(null as string) as keyword,
            stored.text_seq,
            stored.text_changed_at
        from {{ this }} as stored
        cross join watermark
        where
            not exists (
                select 1 from hits
                where hits.keyword_hit_id = stored.keyword_hit_id
            )
            and (
                (stored.text_source = 'wecom' and stored.text_seq >= watermark.seq_from)
                -- a CRM note there now and not scanned again keeps its keywords
                or (
                    stored.text_source = 'crm_note'
                    and not exists (
                        select 1 from scoped
                        where
                            scoped.text_source = 'crm_note'
                            and not scoped.is_scanned
                            and scoped.text_id = stored.text_id
                    )
                )
            )
    {%- endif %}
)

select * from final
