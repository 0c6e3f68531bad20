with

source as (
    select * from {{ source('sheets', 'org_reps') }}
),

renamed as (
    select
        trim(cast(rep_id as string)) as rep_id,
        nullif(trim(cast(manager_id as string)), '') as manager_id,
        nullif(trim(cast(crm_user_id as string)), '') as crm_user_id,
        nullif(trim(cast(wecom_userid as string)), '') as wecom_userid,
        nullif(trim(cast(u8_person_code as string)), '') as u8_person_code,
        trim(cast(rep_name as string)) as rep_name,
        trim(cast(region as string)) as region,
        lower(trim(cast(role as string))) as rep_role,
        cast(hire_date as date) as hire_date,
        cast(leave_date as date) as leave_date
    from source
)

select * from renamed
