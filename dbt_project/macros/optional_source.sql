{#
  A source table that may not exist: every source is optional (SPEC §8). When the raw table
  has not been loaded, this yields an empty relation with the given columns, so every model
  that does not need the missing source still builds and the rest read "no data".

  columns: {name: sql type} of the columns the staging model selects.
#}
{% macro optional_source(source_name, table_name, columns) -%}
    {%- set rel = source(source_name, table_name) -%}
    {%- set found = rel -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=rel.database, schema=rel.schema, identifier=rel.identifier) -%}
    {%- endif -%}
    {%- if found is not none -%}
        {{ rel }}
    {%- else -%}
        (select
        {%- for name, type in columns.items() %}
            cast(null as {{ type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
        where false)
    {%- endif -%}
{%- endmacro %}

{# True when the raw table exists (for models that must say "not applicable"). #}
{% macro source_exists(source_name, table_name) -%}
    {%- if not execute -%}{{ return(true) }}{%- endif -%}
    {%- set rel = source(source_name, table_name) -%}
    {{ return(adapter.get_relation(
        database=rel.database, schema=rel.schema, identifier=rel.identifier) is not none) }}
{%- endmacro %}

{#
  True when the source contract (ops.source_contract, written by each load) says the object is
  missing: it landed empty, and metrics that need it say "not applicable" rather than compute
  on nothing.
#}
{% macro contract_missing(source_name, object_name) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set rel = adapter.get_relation(
        database=target.database, schema='ops', identifier='source_contract') -%}
    {%- if rel is none -%}{{ return(false) }}{%- endif -%}
    {%- set found = run_query(
        "select count(*) from " ~ rel ~ " where source = '" ~ source_name
        ~ "' and object = '" ~ object_name ~ "' and status = 'missing_object'") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
