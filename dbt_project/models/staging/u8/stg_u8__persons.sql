with

source as (
    select * from {{ optional_source('u8', 'person', {
        'cpersoncode': 'string', 'cpersonname': 'string', 'cdepcode': 'string'}) }}
),

renamed as (
    select
        trim(cpersoncode) as u8_person_code,
        trim(cpersonname) as person_name,
        trim(cdepcode) as u8_department_code
    from source
)

select * from renamed
