{#
  A stable pseudonym for an identifier of a person or a customer account in another system
  (a WeCom external_userid ...), for keys a page needs where the id itself must not reach a BI
  file: a salted hash, the salt from SALESOPS_ID_SALT (empty when unset). Changing the salt
  changes every pseudonym (and so the ids of the alerts built on them).
#}
{% macro pseudonym(prefix, expr) -%}
    '{{ prefix }}' || left({{ dbt.hash("'" ~ env_var('SALESOPS_ID_SALT', '') | replace("'", "''") ~ "' || " ~ expr) }}, 16)
{%- endmacro %}
