{#
  Dialect differences the cross-database macros of dbt do not cover, one macro each, dispatched
  by engine: default__ is the ANSI / Spark form, duckdb__ DuckDB's. Models use these (and dbt's
  own dbt.safe_cast, dbt.datediff, dbt.date_trunc, dbt.hash, ...) instead of engine syntax, so
  every model builds on DuckDB and on Apache Spark (make spark-parity).
#}

{# The type of an instant (UTC timestamp): timestamptz on DuckDB, Spark's timestamp (LTZ). #}
{% macro timestamptz_type() -%}
    {{ return(adapter.dispatch('timestamptz_type')()) }}
{%- endmacro %}

{% macro default__timestamptz_type() -%}
    timestamp
{%- endmacro %}

{% macro duckdb__timestamptz_type() -%}
    timestamp with time zone
{%- endmacro %}

{# Seconds since 1970 of an instant, as text the same on every engine ("1763600000.0"). #}
{% macro epoch_seconds_text(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds_text')(ts)) }}
{%- endmacro %}

{% macro default__epoch_seconds_text(ts) -%}
    cast(cast(unix_micros({{ ts }}) / 1000000 as decimal(20, 1)) as string)
{%- endmacro %}

{% macro duckdb__epoch_seconds_text(ts) -%}
    cast(epoch({{ ts }}) as string)
{%- endmacro %}

{#
  One output row per element of a delimited text (in the select list; the other columns
  repeat). delimiter: a single literal character (not a regular-expression metacharacter).
#}
{% macro split_to_rows(text_expr, delimiter) -%}
    {{ return(adapter.dispatch('split_to_rows')(text_expr, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_rows(text_expr, delimiter) -%}
    explode(split({{ text_expr }}, '{{ delimiter }}'))
{%- endmacro %}

{% macro duckdb__split_to_rows(text_expr, delimiter) -%}
    unnest(string_split({{ text_expr }}, '{{ delimiter }}'))
{%- endmacro %}

{# Every match of a regular expression replaced (not only the first). #}
{% macro regexp_replace_all(text_expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all')(text_expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(text_expr, pattern, replacement) -%}
    regexp_replace({{ text_expr }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro duckdb__regexp_replace_all(text_expr, pattern, replacement) -%}
    regexp_replace({{ text_expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{#
  dbt's cast on Spark, for the column types the model contracts name in DuckDB's words
  (varchar, timestamp with time zone): Spark's string and timestamp. dbt builds a contract's
  expected columns with this macro (dispatch search order in dbt_project.yml).
#}
{% macro spark__cast(field, type) -%}
    {%- set spark_types = {'varchar': 'string', 'timestamp with time zone': 'timestamp',
        'timestamptz': 'timestamp'} -%}
    cast({{ field }} as {{ spark_types.get(type | lower | trim, type) }})
{%- endmacro %}

{#
  Incremental models that replace rows by key (fct_activities): delete+insert on DuckDB, merge
  on Spark. Spark merges only into a table format that supports it (Delta, Iceberg, Hudi:
  var spark_file_format on a cluster); on plain Parquet (the local session) the model is
  rebuilt whole each run instead, with the same rows.
#}
{% macro upsert_materialization() -%}
    {{ return(adapter.dispatch('upsert_materialization')()) }}
{%- endmacro %}

{% macro default__upsert_materialization() -%}
    {%- if var('spark_file_format', 'parquet') in ('delta', 'iceberg', 'hudi') -%}
        {{ return('incremental') }}
    {%- endif -%}
    {{ return('table') }}
{%- endmacro %}

{% macro duckdb__upsert_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro upsert_strategy() -%}
    {{ return(adapter.dispatch('upsert_strategy')()) }}
{%- endmacro %}

{% macro default__upsert_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__upsert_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{#
  Incremental models that replace whole days (fct_pipeline_daily, unique_key = partition
  column): delete+insert on DuckDB, insert_overwrite of the day partitions on Spark.
#}
{% macro replace_partitions_strategy() -%}
    {{ return(adapter.dispatch('replace_partitions_strategy')()) }}
{%- endmacro %}

{% macro default__replace_partitions_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro duckdb__replace_partitions_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{# The partition columns of such a model: none on DuckDB (its delete+insert goes by key). #}
{% macro replace_partitions_by(column) -%}
    {{ return(adapter.dispatch('replace_partitions_by')(column)) }}
{%- endmacro %}

{% macro default__replace_partitions_by(column) -%}
    {{ return([column]) }}
{%- endmacro %}

{% macro duckdb__replace_partitions_by(column) -%}
    {{ return(none) }}
{%- endmacro %}

{#- dbt-spark's listagg drops the order by (it warns and joins in collection order), so a path
  or a list of names would come out in whatever order the executors met the rows. This one
  sorts structs of the order keys and the value: ascending keys, as every caller here uses. #}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set keys = order_by_clause | trim | replace('order by', '', 1) | trim -%}
        {%- set fields = [] -%}
        {%- for key in keys.split(',') -%}
            {%- do fields.append("'k" ~ loop.index ~ "', " ~ key | trim) -%}
        {%- endfor -%}
        {%- set collected -%}
            transform(array_sort(collect_list(named_struct({{ fields | join(', ') }},
                'v', {{ measure }}))), x -> x.v)
        {%- endset -%}
    {%- else -%}
        {%- set collected = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}

{#- On DuckDB an ordered string_agg sorts within each group, slowly when there are many groups
  (fct_lead_scores' 160k leads: 2.0 s against 1.1 s for this). This one collects structs of the
  order keys and the value and sorts each group's list, as spark__listagg does; null values are
  left out, as string_agg leaves them out; ascending keys, as every caller here uses. #}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause and not limit_num -%}
        {%- set keys = order_by_clause | trim | replace('order by', '', 1) | trim -%}
        {%- set fields = [] -%}
        {%- for key in keys.split(',') -%}
            {%- do fields.append('k' ~ loop.index ~ ' := ' ~ key | trim) -%}
        {%- endfor -%}
        array_to_string(list_transform(list_sort(
            list(struct_pack({{ fields | join(', ') }}, v := {{ measure }}))
            filter (where ({{ measure }}) is not null)),
            lambda x: struct_extract(x, 'v')), {{ delimiter_text }})
    {%- else -%}
        {{ dbt_duckdb.duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) }}
    {%- endif -%}
{%- endmacro %}
