with

source as (
    select * from {{ optional_source('u8', 'salebillvouch', {
        'sbvid': 'bigint', 'csbvcode': 'string', 'ccuscode': 'string',
        'cpersoncode': 'string', 'csocode': 'string', 'ddate': 'timestamp'}) }}
),

renamed as (
    select
        cast(sbvid as bigint) as invoice_id,
        trim(csbvcode) as invoice_code,
        trim(ccuscode) as u8_customer_code,
        trim(cpersoncode) as u8_person_code,
        trim(csocode) as sales_order_code,
        cast(ddate as date) as invoice_date
    from source
)

select * from renamed
