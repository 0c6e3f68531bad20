{#
  The incremental runs of dq_findings. Its rule families (intermediate/findings, ephemeral:
  compiled into dq_findings alone) re-examine, on an incremental run, the records that changed
  since the last run, those whose evidence window overlaps them, and every record flagged last
  time (so a finding that no longer holds is not found again and goes). On the first run, a
  full refresh, or an engine that rebuilds dq_findings whole, they examine all history.
#}

{# The dq_findings table of the last run, when this run may build on it; none otherwise. #}
{% macro findings_previous_relation() -%}
    {%- if not execute or flags.FULL_REFRESH -%}{{ return(none) }}{%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.dq_findings') -%}
    {%- if node is none or node.config.materialized != 'incremental' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}

{# True when the families examine only what changed (see above). #}
{% macro findings_incremental() -%}
    {{ return(true if findings_previous_relation() else false) }}
{%- endmacro %}

{#
  The findings of the last run (rule, record_id, details), or none on a full examination.
  The families re-examine each of these records.
#}
{% macro findings_previous() -%}
    {%- set rel = findings_previous_relation() -%}
    {%- if rel -%}
        (select rule, record_id, details from {{ rel }})
    {%- else -%}
        (select
            cast(null as string) as rule,
            cast(null as string) as record_id,
            cast(null as string) as details
        where false)
    {%- endif -%}
{%- endmacro %}

{#
  The instant from which records count as changed: the as-of end of the last run less
  late_days (the settings sheet's late_arriving_days: how late a change may arrive and still
  be re-examined; an older late arrival waits for the periodic full rebuild,
  runs.models_full_every_days). Null (all history) on a full examination or when the last
  run found nothing.
#}
{% macro findings_changed_since(late_days) -%}
    {%- set rel = findings_previous_relation() -%}
    {%- if rel -%}
        {{ dbt.dateadd(
            'day', '-1 * cast(' ~ late_days ~ ' as integer)',
            '(select max(previous.detected_at) from ' ~ rel ~ ' as previous)') }}
    {%- else -%}
        cast(null as {{ timestamptz_type() }})
    {%- endif -%}
{%- endmacro %}

{# dq_findings' post-hook: the findings an incremental run cleared (rows without a rule) go. #}
{% macro findings_drop_cleared() -%}
    {%- if config.get('materialized') == 'incremental' -%}
        delete from {{ this }} where rule is null
    {%- endif -%}
{%- endmacro %}

{#
  A family's condition that key is one it re-examines (listed in column of the CTE
  reexamined): true on a full examination.
#}
{% macro findings_reexamined(key, reexamined, column) -%}
    {%- if findings_incremental() -%}
        {{ key }} in (select {{ reexamined }}.{{ column }} from {{ reexamined }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
