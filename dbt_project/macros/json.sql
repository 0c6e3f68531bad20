{#
  A JSON object text built by the engine from named SQL expressions, so any value (a company
  name with quotes, backslashes or line breaks) is escaped correctly: never concatenate JSON.

  fields: {key: sql expression}, keys in output order. Null values become JSON null.
#}
{% macro json_object(fields) -%}
    {{ return(adapter.dispatch('json_object')(fields)) }}
{%- endmacro %}

{% macro duckdb__json_object(fields) -%}
    cast(to_json(struct_pack(
    {%- for key, expr in fields.items() %}
        {{ adapter.quote(key) }} := {{ expr }}{{ "," if not loop.last }}
    {%- endfor %}
    )) as string)
{%- endmacro %}

{# instants as DuckDB writes them in UTC ("2026-11-06 07:05:03+00"; the session is UTC) #}
{% macro default__json_object(fields) -%}
    to_json(named_struct(
    {%- for key, expr in fields.items() %}
        '{{ key }}', {{ expr }}{{ "," if not loop.last }}
    {%- endfor %}
    ), map('timestampFormat', 'yyyy-MM-dd HH:mm:ssx'))
{%- endmacro %}
