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
  the derived rows meet the stored ones by key (one pass over each): it returns the rows new or
  differing in any column of the model's contract, and, for each stored key no longer derived,
  a retraction: the key with marker null. The model's upsert replaces rows by unique_key; its
  post_hook retract_rows(marker) then deletes the retractions. A change of the model's columns
  needs a full refresh (on_schema_change 'fail').
#}
{% macro changed_rows(derived, unique_key, marker) -%}
    {%- if is_incremental() -%}
        {#- the contract's columns: the derived rows' and the stored table's -#}
        {%- set columns = model.columns.keys() | list -%}
        {%- if marker not in columns or unique_key not in columns -%}
            {{ exceptions.raise_compiler_error(
                model.name ~ ": changed_rows needs a contract naming " ~ unique_key
                ~ " and " ~ marker) }}
        {%- endif %}
        select
            {%- for column in columns %}
                {% if column == unique_key -%}
                    coalesce(derived.{{ column }}, stored.{{ column }})
                {%- else -%}
                    derived.{{ column }}
                {%- endif %} as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ derived }} as derived
        full outer join {{ this }} as stored
            on derived.{{ unique_key }} = stored.{{ unique_key }}
        where
            stored.{{ unique_key }} is null
            or derived.{{ unique_key }} is null
            {%- for column in columns if column != unique_key %}
                or derived.{{ column }} is distinct from stored.{{ column }}
            {%- endfor %}
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
