{#
  A row's region and rep as the pages show them: region '未分配' when none, rep '-' named
  '未分配' when none. `relation` has region and rep_id; `reps` (dim_rep) the rep's name.
#}
{% macro region_and_rep(relation, reps='reps') -%}
    coalesce({{ relation }}.region, '未分配') as region,
    coalesce({{ relation }}.rep_id, '-') as rep_id,
    coalesce({{ reps }}.rep_name, '未分配') as rep_name
{%- endmacro %}
