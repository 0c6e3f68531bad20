with

source as (
    select * from {{ optional_source('sheets', 'targets', {
        'month': 'date', 'region': 'string', 'rep_id': 'string',
        'booking_target': 'decimal(18, 2)', 'collection_target': 'decimal(18, 2)'}) }}
),

renamed as (
    select
        cast(month as date) as target_month,
        trim(cast(region as string)) as region,
        nullif(trim(cast(rep_id as string)), '') as rep_id,
        cast(booking_target as decimal(18, 2)) as booking_target,
        cast(collection_target as decimal(18, 2)) as collection_target
    from source
)

select * from renamed
