-- The contract findings each load writes (ingest/contracts.py). The table is made here when no
-- load has written it yet, and the model reads after the sources that write it have loaded
-- (the refs below order it behind them in the run).
-- depends_on: {{ ref('stg_crm__leads') }}
-- depends_on: {{ ref('stg_u8__customers') }}
-- depends_on: {{ ref('stg_sheets__settings') }}
{{ config(pre_hook=[
    "create schema if not exists ops",
    "create table if not exists ops.source_contract (checked_at " ~ timestamptz_type() ~ ",
    source string, object string, column_name string, status string, degrades string,
    fix string)",
]) }}
with

source as (
    select * from {{ source('ops', 'source_contract') }}
),

renamed as (
    select
        source || '/' || coalesce(object, '') || '/' || coalesce(column_name, '') || '/'
        || status as finding_id,
        source as source_name,
        nullif(object, '') as object_name,
        column_name,
        status,
        nullif(degrades, '') as degrades,
        nullif(fix, '') as fix,
        checked_at
    from source
)

select * from renamed
