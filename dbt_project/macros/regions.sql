{# The region of a person the org sheet does not place (no org sheet: reps from CRM users). #}
{% macro unknown_region() -%}
    未知区域
{%- endmacro %}
