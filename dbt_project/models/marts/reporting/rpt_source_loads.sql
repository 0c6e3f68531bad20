-- Sources whose last load failed, for the data-quality page: the marts that read them are
-- built from the last good load ("stale since"). Sources that loaded are listed as ok.
with

source_loads as (
    select * from {{ ref('stg_ops__source_loads') }}
),

final as (
    select
        source_name,
        {{ source_label('source_name') }} as source_label,
        load_status,
        load_error,
        is_failed,
        attempted_at,
        cast({{ to_local('attempted_at') }} as timestamp) as attempted_local,
        last_success_at,
        cast({{ to_local('last_success_at') }} as timestamp) as last_success_local
    from source_loads
)

select * from final
