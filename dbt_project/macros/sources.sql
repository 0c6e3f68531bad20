{# The Chinese label of a source's short name, as the pages show it (the registry's labels). #}
{% macro source_label(column) -%}
    case {{ column }}
    {%- for source in registered_sources() %}
        when '{{ source.name }}' then '{{ source.label }}'
    {%- endfor %}
    end
{%- endmacro %}
