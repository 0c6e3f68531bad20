with

source as (
    select * from {{ optional_source('sheets', 'targets', {
        'month': 'date', 'region': 'varchar', 'rep_id': 'varchar',
        'booking_target': 'decimal(18, 2)', 'collection_target': 'decimal(18, 2)'}) }}
),

renamed as (
    select
        cast(month as date) as target_month,
        trim(cast(region as varchar)) as region,
        nullif(trim(cast(rep_id as varchar)), '') as rep_id,
        cast(booking_target as decimal(18, 2)) as booking_target,
        cast(collection_target as decimal(18, 2)) as collection_target
    from source
)

select * from renamed
