{#
  A company name reduced to what identifies the company across systems (SPEC §3, identity
  resolution): brackets of either width and spaces dropped, legal-form words (有限责任公司,
  股份有限公司, 有限公司, 集团, 股份) stripped. Plain replace() so it runs on any adapter.
#}
{% macro company_key(name) -%}
    {%- set drop = ['（', '）', '(', ')', ' ', '　', '有限责任公司', '股份有限公司', '有限公司', '集团', '股份'] -%}
    {%- set ns = namespace(expr=name) -%}
    {%- for token in drop -%}
        {%- set ns.expr = "replace(" ~ ns.expr ~ ", '" ~ token ~ "', '')" -%}
    {%- endfor -%}
    {{ ns.expr }}
{%- endmacro %}
