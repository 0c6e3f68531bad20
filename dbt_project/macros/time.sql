{#
  Time helpers. Warehouse timestamps are UTC (timestamptz); business days, weeks and months
  are cut in var('timezone').
#}

{#
  The as-of day (YYYY-MM-DD, business time zone): var as_of (dbt unit tests set it so), else
  the environment variable SALESOPS_AS_OF, which a pipeline run sets and dbt reads only when a
  model executes. dbt parses the whole project again whenever a --vars value changes, so a
  day passed as a var would cost every daily run a full parse; read at execution it leaves the
  saved parse valid from one day to the next. Empty: no as-of day (the clock).
#}
{% macro as_of_day() -%}
    {{ return(var('as_of', '') or (env_var('SALESOPS_AS_OF', '') if execute else '')) }}
{%- endmacro %}

{# The last instant of the as-of day (as_of_day, business time zone), as a UTC timestamptz. #}
{% macro as_of_end() -%}
    {%- if as_of_day() -%}
        {{ to_utc("cast('" ~ as_of_day() ~ "' as timestamp) + interval 1 day - interval 1 second") }}
    {%- else -%}
        current_timestamp
    {%- endif -%}
{%- endmacro %}

{# The as-of day itself (a date in the business time zone). #}
{% macro as_of_date() -%}
    {%- if as_of_day() -%}
        cast('{{ as_of_day() }}' as date)
    {%- else -%}
        cast({{ to_local('current_timestamp') }} as date)
    {%- endif -%}
{%- endmacro %}

{# The rows of a daily mart (one row per pipeline_date x deal) on its last day, the as-of day. #}
{% macro last_day_rows(relation) -%}
    select *
    from {{ relation }}
    where pipeline_date = (select max(latest.pipeline_date) from {{ relation }} as latest)
{%- endmacro %}

{# A local wall-clock timestamp (business time zone) -> UTC timestamptz. #}
{% macro to_utc(local_ts) -%}
    {{ return(adapter.dispatch('to_utc')(local_ts)) }}
{%- endmacro %}

{% macro default__to_utc(local_ts) -%}
    (({{ local_ts }}) at time zone '{{ var("timezone") }}')
{%- endmacro %}

{% macro spark__to_utc(local_ts) -%}
    to_utc_timestamp({{ local_ts }}, '{{ var("timezone") }}')
{%- endmacro %}

{% macro duckdb__to_utc(local_ts) -%}
    timezone('{{ var("timezone") }}', {{ local_ts }})
{%- endmacro %}

{# A UTC timestamptz -> local wall-clock timestamp in the business time zone. #}
{% macro to_local(utc_ts) -%}
    {{ return(adapter.dispatch('to_local')(utc_ts)) }}
{%- endmacro %}

{% macro default__to_local(utc_ts) -%}
    (({{ utc_ts }}) at time zone '{{ var("timezone") }}')
{%- endmacro %}

{% macro spark__to_local(utc_ts) -%}
    from_utc_timestamp({{ utc_ts }}, '{{ var("timezone") }}')
{%- endmacro %}

{% macro duckdb__to_local(utc_ts) -%}
    timezone('{{ var("timezone") }}', {{ utc_ts }})
{%- endmacro %}

{# Hours between two timestamps, fractional. #}
{% macro hours_between(start_ts, end_ts) -%}
    ({{ seconds_between(start_ts, end_ts) }} / cast(3600 as double))
{%- endmacro %}

{# Days between two timestamps, fractional (a double on every engine). #}
{% macro days_between(start_ts, end_ts) -%}
    ({{ seconds_between(start_ts, end_ts) }} / cast(86400 as double))
{%- endmacro %}

{# Seconds from start_ts to end_ts. #}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__seconds_between(start_ts, end_ts) -%}
    {{ dbt.datediff(start_ts, end_ts, 'second') }}
{%- endmacro %}

{# fractional seconds, a double, as DuckDB's epoch() gives them #}
{% macro spark__seconds_between(start_ts, end_ts) -%}
    ((unix_micros({{ end_ts }}) - unix_micros({{ start_ts }})) / cast(1000000 as double))
{%- endmacro %}

{% macro duckdb__seconds_between(start_ts, end_ts) -%}
    (epoch({{ end_ts }}) - epoch({{ start_ts }}))
{%- endmacro %}

{# One row per day from start_date to end_date (dates), column date_day. #}
{% macro day_series(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_series')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__day_series(start_date, end_date) -%}
    {{ dbt.date_spine('day', start_date, end_date ~ ' + 1') }}
{%- endmacro %}

{% macro duckdb__day_series(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day
    )) as date) as date_day
{%- endmacro %}
