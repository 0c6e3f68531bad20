with

source as (
    select * from {{ optional_source('u8', 'so_somain', {
        'id': 'bigint', 'csocode': 'string', 'ccuscode': 'string', 'cpersoncode': 'string',
        'cdepcode': 'string', 'cverifier': 'string', 'istatus': 'bigint',
        'ddate': 'timestamp', 'dverifysystime': 'timestamp', 'dmodifysystime': 'timestamp'}) }}
),

renamed as (
    select
        cast(id as bigint) as sales_order_id,
        trim(csocode) as sales_order_code,
        trim(ccuscode) as u8_customer_code,
        trim(cpersoncode) as u8_person_code,
        trim(cdepcode) as u8_department_code,
        cverifier as verified_by,
        cast(istatus as integer) as order_status,
        cast(ddate as date) as order_date,
        {{ to_utc('cast(dverifysystime as timestamp)') }} as verified_at,
        {{ to_utc('cast(dmodifysystime as timestamp)') }} as modified_at
    from source
)

select * from renamed
