{#
  The columns that say what a customer said, where and about what (int_customer_texts_unioned's
  columns, in its order): qualified by `relation` when given; `opportunity_id` an expression
  for the deal the text is about, when not the text's own.
#}
{% macro said_text_columns(relation=none, opportunity_id=none) -%}
    {%- set p = relation ~ '.' if relation else '' -%}
    {{ p }}text_id,
    {{ p }}text_source,
    {{ p }}account_id,
    {{ p }}lead_id,
    {{ p }}company_name,
    {{ opportunity_id ~ ' as opportunity_id' if opportunity_id else p ~ 'opportunity_id' }},
    {{ p }}rep_id,
    {{ p }}said_text,
    {{ p }}said_at
{%- endmacro %}
