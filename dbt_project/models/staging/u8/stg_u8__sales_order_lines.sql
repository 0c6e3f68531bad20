with

source as (
    select * from {{ optional_source('u8', 'so_sodetails', {
        'isosid': 'bigint', 'id': 'bigint', 'cinvcode': 'string',
        'iquantity': 'decimal(20,6)', 'imoney': 'decimal(20,2)', 'itax': 'decimal(20,2)',
        'isum': 'decimal(20,2)', 'dpredate': 'timestamp'}) }}
),

renamed as (
    select
        cast(isosid as bigint) as sales_order_line_id,
        cast(id as bigint) as sales_order_id,
        cinvcode as inventory_code,
        cast(iquantity as decimal(20, 6)) as quantity,
        cast(imoney as decimal(18, 2)) as net_amount,
        cast(itax as decimal(18, 2)) as tax_amount,
        cast(isum as decimal(18, 2)) as gross_amount,
        cast(dpredate as date) as planned_delivery_date
    from source
)

select * from renamed
