{#
  Free text with the personal data a reader might have typed into it masked: mainland mobile
  numbers and e-mail addresses, so a customer's words can reach a BI page (README, "Who sees
  what"). Every occurrence is replaced: DuckDB needs the 'g' flag for that, other engines
  replace all by default.
#}
{% macro mask_personal(text) -%}
    {{ return(adapter.dispatch('mask_personal')(text)) }}
{%- endmacro %}

{% macro default__mask_personal(text) -%}
    regexp_replace(regexp_replace({{ text }},
        '1[3-9][0-9]{9}', '1**********'),
        '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}', '***@***')
{%- endmacro %}

{% macro duckdb__mask_personal(text) -%}
    regexp_replace(regexp_replace({{ text }},
        '1[3-9][0-9]{9}', '1**********', 'g'),
        '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}', '***@***', 'g')
{%- endmacro %}
