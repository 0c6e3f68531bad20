with

source as (
    select * from {{ optional_source('ops', 'source_contract', {
        'checked_at': 'timestamp with time zone', 'source': 'varchar', 'object': 'varchar',
        'column_name': 'varchar', 'status': 'varchar', 'degrades': 'varchar',
        'fix': 'varchar'}) }}
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
