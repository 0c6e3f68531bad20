-- U8 receipt lines (收付款单子表): how a receipt's amount is split.
with

source as (
    select * from {{ optional_source('u8', 'ap_closebills', {
        'id': 'bigint', 'iid': 'bigint', 'iamt': 'decimal(20,2)', '_u8_deleted': 'boolean'}) }}
),

renamed as (
    select
        cast(id as bigint) as receipt_line_id,
        cast(iid as bigint) as receipt_id,
        cast(iamt as decimal(18, 2)) as amount
    from source
    where not coalesce(_u8_deleted, false)
)

select * from renamed
