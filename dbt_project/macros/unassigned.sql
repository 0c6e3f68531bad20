{# What the pages show for a region or rep that is none or that the org sheet does not name. #}
{% macro unassigned() -%}
    未分配
{%- endmacro %}

{#
  A row's region and rep as the pages show them: region '未分配' when none, rep '-' named
  '未分配' when none or not found. `relation` has region and rep_id; `reps` (dim_rep) the rep's
  name.
#}
{% macro region_and_rep(relation, reps='reps') -%}
    coalesce({{ relation }}.region, '{{ unassigned() }}') as region,
    coalesce({{ relation }}.rep_id, '-') as rep_id,
    coalesce({{ reps }}.rep_name, '{{ unassigned() }}') as rep_name
{%- endmacro %}
