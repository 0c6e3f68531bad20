-- How each source's last load went (ops.source_loads, written by the ingest assets): a source
-- that failed keeps its raw tables as of its last good load. Each source's load writes its row,
-- so the model is built after the loads (one table of each source names the load):
-- depends_on: {{ source('crm', 'users') }}
-- depends_on: {{ source('wecom', 'follow_users') }}
-- depends_on: {{ source('u8', 'customer') }}
-- depends_on: {{ source('sheets', 'settings') }}
with

source as (
    select * from {{ optional_source('ops', 'source_loads', {
        'source': 'string', 'status': 'string',
        'attempted_at': timestamptz_type(),
        'last_success_at': timestamptz_type(), 'error': 'string'}) }}
),

renamed as (
    select
        source as source_name,
        status as load_status,
        error as load_error,
        status = 'failed' as is_failed,
        attempted_at,
        last_success_at
    from source
)

select * from renamed
