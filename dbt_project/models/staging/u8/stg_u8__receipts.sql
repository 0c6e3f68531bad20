-- U8 receipt vouchers (收款单: cVouchType '48', cFlag 'AR').
with

source as (
    select * from {{ optional_source('u8', 'ap_closebill', {
        'iid': 'bigint', 'cvouchid': 'string', 'cdwcode': 'string', 'cperson': 'string',
        'iamount': 'decimal(20,2)', 'dvouchdate': 'timestamp', 'cvouchtype': 'string',
        'cflag': 'string'}) }}
),

renamed as (
    select
        cast(iid as bigint) as receipt_id,
        trim(cvouchid) as receipt_code,
        trim(cdwcode) as u8_customer_code,
        trim(cperson) as u8_person_code,
        cast(iamount as decimal(18, 2)) as amount,
        cast(dvouchdate as date) as receipt_date
    from source
    where cvouchtype = '48' and cflag = 'AR'
)

select * from renamed
