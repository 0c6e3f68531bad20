{#
  Wilson score interval of a proportion (successes of trials) at 95 % (z = 1.96): its lower
  and upper bound; null without trials. Portable arithmetic only.
#}
{% macro wilson_low(successes, trials) -%}
    {{ _wilson(successes, trials, '-') }}
{%- endmacro %}

{% macro wilson_high(successes, trials) -%}
    {{ _wilson(successes, trials, '+') }}
{%- endmacro %}

{% macro _wilson(successes, trials, sign) -%}
    {%- set z = 1.959964 -%}
    {%- set n = 'cast(' ~ trials ~ ' as double)' -%}
    {%- set p = '(' ~ successes ~ ' / nullif(' ~ n ~ ', 0))' -%}
    (
        ({{ p }} + {{ z * z }} / (2 * {{ n }})
            {{ sign }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ n }}
                + {{ z * z }} / (4 * {{ n }} * {{ n }})))
        / (1 + {{ z * z }} / {{ n }})
    )
{%- endmacro %}

{#
  Median and p90 days of the stage stays that ended (a stay still open has no dwell yet), as
  `median_dwell_days` and `p90_dwell_days`. Rows need `has_ended` and `dwell_days`.
#}
{% macro ended_dwell_percentiles() -%}
    cast(
        percentile_cont(0.5) within group (order by case when has_ended then dwell_days end)
        as double
    ) as median_dwell_days,
    cast(
        percentile_cont(0.9) within group (order by case when has_ended then dwell_days end)
        as double
    ) as p90_dwell_days
{%- endmacro %}
