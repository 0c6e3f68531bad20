-- Source freshness for the data-quality page: each source's last completed load (dlt's load
-- log), the hours since, and the limit from the settings sheet (freshness_max_hours, with
-- freshness_max_hours_u8 for U8). A source never loaded is listed with no load.
with

{% set sources = ['crm', 'wecom', 'u8', 'sheets'] %}
{% for source in sources %}
    loads_{{ source }} as (
        select
            '{{ source }}' as source_name,
            max(inserted_at) as last_loaded_at,
            count(*) as completed_loads
        from {{ optional_source(source, '_dlt_loads', {
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
        select * from loads_{{ source }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

measured as (
    select
        unioned.source_name,
        unioned.last_loaded_at,
        unioned.completed_loads,
        {{ hours_between('unioned.last_loaded_at', 'current_timestamp') }} as hours_since_load,
        case
            when unioned.source_name = 'u8' then settings.freshness_max_hours_u8
            else settings.freshness_max_hours
        end as max_hours
    from unioned
    cross join settings
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
