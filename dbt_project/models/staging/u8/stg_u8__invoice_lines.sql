with

source as (
    select * from {{ source('u8', 'salebillvouchs') }}
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
