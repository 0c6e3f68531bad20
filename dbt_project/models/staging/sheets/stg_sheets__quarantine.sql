-- Spreadsheet rows that could not load, with where they are and why (file, sheet, row,
-- column, value, reason); the rest of their sheet loaded.
with

source as (
    select * from {{ optional_source('sheets', 'sheet_quarantine', {
        'file': 'string', 'sheet': 'string', 'table_name': 'string',
        'row_number': 'bigint', 'column_name': 'string', 'value': 'string',
        'reason': 'string', 'loaded_at': timestamptz_type()}) }}
),

renamed as (
    select
        file as file_name,
        sheet as sheet_name,
        table_name,
        column_name,
        value as cell_value,
        reason,
        cast(row_number as integer) as row_number,
        loaded_at
    from source
)

select * from renamed
