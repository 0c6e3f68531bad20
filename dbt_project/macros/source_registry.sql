{# Written by `make` from the registry of sources (ingest/sources.py): edit it there. #}
{% macro registered_sources() -%}
    {{ return([
        {'name': 'crm', 'label': 'CRM（Salesforce）', 'freshness_setting': 'freshness_max_hours'},
        {'name': 'wecom', 'label': '企业微信', 'freshness_setting': 'freshness_max_hours'},
        {'name': 'u8', 'label': '用友 U8', 'freshness_setting': 'freshness_max_hours_u8'},
        {'name': 'sheets', 'label': '业务表格', 'freshness_setting': 'freshness_max_hours'},
    ]) }}
{%- endmacro %}
