{#
  Metrics a source may lack the fields for (rpt_metric_applicability): where the metric does
  not apply, its figures are null, never 0. A model selects `metric_applicability(metric)` as
  its `applicability` CTE, cross joins it, and wraps each figure of the metric in
  `when_applicable(...)`; `applicable_amount` and `applicable_pct_error` are the two figures
  the forecast marts show. A model that needs several metrics names each CTE and passes its
  name as `applicability`.
#}
{% macro metric_applicability(metric) -%}
    select is_applicable
    from {{ ref('rpt_metric_applicability') }}
    where metric = '{{ metric }}'
{%- endmacro %}

{% macro when_applicable(expression, applicability='applicability') -%}
    case when {{ applicability }}.is_applicable then {{ expression }} end
{%- endmacro %}

{# An amount (0 when there is none), as decimal(18, 2). #}
{% macro applicable_amount(expression, applicability='applicability') -%}
    {{ when_applicable('cast(coalesce(' ~ expression ~ ', 0) as decimal(18, 2))', applicability) }}
{%- endmacro %}

{# |forecast - actual| / actual, as double; empty when the actual is 0 or missing. #}
{% macro applicable_pct_error(forecast, actual, applicability='applicability') -%}
    {{ when_applicable(
        'cast(abs(coalesce(' ~ forecast ~ ', 0) - coalesce(' ~ actual ~ ', 0))'
        ~ ' / nullif(' ~ actual ~ ', 0) as double)',
        applicability
    ) }}
{%- endmacro %}
