{# The Chinese label of a source's short name (crm, wecom, u8, sheets), as the pages show it. #}
{% macro source_label(column) -%}
    case {{ column }}
        when 'crm' then 'CRM（Salesforce）'
        when 'wecom' then '企业微信'
        when 'u8' then '用友 U8'
        else '业务表格'
    end
{%- endmacro %}
