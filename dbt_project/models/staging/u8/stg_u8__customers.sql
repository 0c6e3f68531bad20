with

source as (
    select * from {{ optional_source('u8', 'customer', {
        'ccuscode': 'string', 'ccusname': 'string', 'ccusabbname': 'string',
        'ccusdepart': 'string', 'ccuspperson': 'string', 'dcusdevdate': 'timestamp'}) }}
),

renamed as (
    select
        trim(ccuscode) as u8_customer_code,
        trim(ccusname) as customer_name,
        ccusabbname as customer_short_name,
        ccusdepart as u8_department_code,
        ccuspperson as u8_person_code,
        cast(dcusdevdate as date) as developed_date
    from source
)

select * from renamed
