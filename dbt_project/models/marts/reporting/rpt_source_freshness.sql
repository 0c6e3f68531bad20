-- Source freshness for the data-quality page: each source of the registry (ingest/sources.py),
-- its last completed load (dlt's load log), the hours since, and the limit from the settings
-- sheet (the source's setting: freshness_max_hours, freshness_max_hours_u8 for U8). A source
-- never loaded is listed with no load.
with

{% set sources = registered_sources() %}
{% for source in sources %}
    loads_{{ source.name }} as (
        select
            '{{ source.name }}' as source_name,
            max(inserted_at) as last_loaded_at,
            count(*) as completed_loads
        from {{ optional_source(source.name, '_dlt_loads', {
            'load_id': 'string', 'status': 'bigint',
            'inserted_at': timestamptz_type()}) }} as loads
        where status = 0
    ),
{% endfor %}

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

unioned as (
    {% for source in sources %}
        select
            loads_{{ source.name }}.*,
            settings.{{ source.freshness_setting }} as max_hours
        from loads_{{ source.name }}
        cross join settings
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

measured as (
    select
        unioned.source_name,
        unioned.last_loaded_at,
        unioned.completed_loads,
        {{ hours_between('unioned.last_loaded_at', 'current_timestamp') }} as hours_since_load,
        unioned.max_hours
    from unioned
),

final as (
    select
        source_name,
        {{ source_label('source_name') }} as source_label,
        last_loaded_at,
        cast({{ to_local('last_loaded_at') }} as timestamp) as last_loaded_local,
        cast(completed_loads as bigint) as completed_loads,
        cast(hours_since_load as double) as hours_since_load,
        cast(max_hours as double) as max_hours,
        coalesce(hours_since_load > max_hours, true) as is_stale
    from measured
)

select * from final
