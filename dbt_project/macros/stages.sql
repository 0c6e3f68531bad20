{#
  The canonical stages (SPEC §4) by role, as SQL lists for `in (...)`: the open pipeline
  (before the contract) and the won ones. Their names, order and probabilities come from the
  stage-config sheet; which canonical stage is open or won is the funnel's definition.
#}
{% macro open_stages() -%}
    'lead_confirmed', 'needs_diagnosed', 'solution_demo', 'quote_negotiation'
{%- endmacro %}

{% macro won_stages() -%}
    'contract_signed', 'delivered_paid'
{%- endmacro %}
