{#
  Incremental marts that are derived whole each run and write only what changed
  (fct_stage_history, fct_lead_response, fct_identity_links): a row is written when it is new
  or any of its values differs from the stored row (late arrivals, edits, links that resolve
  otherwise now, values that move with the as-of day), and a stored row that is no longer
  derived (its record deleted, merged away, no longer linked) is retracted. What the table
  holds after a run is exactly what a full rebuild would hold.

  changed_rows_config(unique_key, marker): the model's config (config(**...)): upserted by
  unique_key (upsert_materialization, upsert_strategy), its retractions deleted after.
  changed_rows(derived, unique_key, marker): the select of such a model. derived: the name of
  the CTE with every row; marker: a column never null in a derived row. On an incremental run
  it returns the derived rows not stored as they are, and, for each stored key no longer
  derived, a retraction: the stored row with marker null. The model's upsert replaces rows by
  unique_key; its post_hook retract_rows(marker) then deletes the retractions. The stored and
  the derived rows are compared column for column: a change of the model's columns needs a full
  refresh (on_schema_change 'fail').
#}
{% macro changed_rows(derived, unique_key, marker) -%}
    {%- if is_incremental() -%}
        {%- set stored = adapter.get_columns_in_relation(this) -%}
        select * from (
            select * from {{ derived }}
            except
            select * from {{ this }}
        ) as changed
        union all
        select
            {%- for column in stored %}
                {% if column.name | lower == marker | lower -%}
                    cast(null as {{ column.data_type }})
                {%- else -%}
                    retracted.{{ adapter.quote(column.name) }}
                {%- endif %} as {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ this }} as retracted
        where not exists (
            select 1 from {{ derived }}
            where {{ derived }}.{{ unique_key }} = retracted.{{ unique_key }}
        )
    {%- else -%}
        select * from {{ derived }}
    {%- endif -%}
{%- endmacro %}

{% macro changed_rows_config(unique_key, marker) -%}
    {{ return({
        'materialized': upsert_materialization(),
        'unique_key': unique_key,
        'incremental_strategy': upsert_strategy(),
        'on_schema_change': 'fail',
        'post_hook': "{{ retract_rows('" ~ marker ~ "') }}",
    }) }}
{%- endmacro %}

{# The post_hook of a changed_rows model: the retractions go (nothing to do on a rebuild). #}
{% macro retract_rows(marker) -%}
    {%- if model.config.materialized == 'incremental' -%}
        delete from {{ this }} where {{ marker }} is null
    {%- endif -%}
{%- endmacro %}
