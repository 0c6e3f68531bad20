{#
  The win model's fit, written between two dbt steps by salesops/win_model.py (FIT_SCHEMA,
  FIT_TABLE there): read by fct_win_model_coefficients alone.
#}
{% macro win_model_fit() -%}
    {{ return(api.Relation.create(schema='ml', identifier='win_model_fit')) }}
{%- endmacro %}
