-- One row per sheet each time a load reads it (only sheets whose workbook changed): rows read,
-- loaded and quarantined (read = loaded + quarantined).
with

source as (
    select * from {{ optional_source('sheets', 'sheet_load_report', {
        'loaded_at': timestamptz_type(), 'file': 'string', 'sheet': 'string',
        'table_name': 'string', 'status': 'string', 'rows_read': 'bigint',
        'rows_loaded': 'bigint', 'rows_quarantined': 'bigint', '_dlt_load_id': 'string'}) }}
),

renamed as (
    select
        _dlt_load_id as load_id,
        file as file_name,
        sheet as sheet_name,
        table_name,
        status,
        cast(rows_read as integer) as rows_read,
        cast(rows_loaded as integer) as rows_loaded,
        cast(rows_quarantined as integer) as rows_quarantined,
        loaded_at
    from source
)

select * from renamed
