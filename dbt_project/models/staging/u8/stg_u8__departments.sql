-- U8 departments (部门档案): the department codes people and documents carry.
with

source as (
    select * from {{ optional_source('u8', 'department', {
        'cdepcode': 'string', 'cdepname': 'string', '_u8_deleted': 'boolean'}) }}
),

renamed as (
    select
        trim(cdepcode) as u8_department_code,
        trim(cdepname) as department_name
    from source
    where not coalesce(_u8_deleted, false)
)

select * from renamed
