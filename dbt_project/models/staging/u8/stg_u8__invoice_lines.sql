with

source as (
    select * from {{ optional_source('u8', 'salebillvouchs', {
        'autoid': 'bigint', 'sbvid': 'bigint', 'isosid': 'bigint', 'isum': 'decimal(20,2)'}) }}
),

renamed as (
    select
        cast(autoid as bigint) as invoice_line_id,
        cast(sbvid as bigint) as invoice_id,
        cast(isosid as bigint) as sales_order_line_id,
        cast(isum as decimal(18, 2)) as gross_amount
    from source
)

select * from renamed
