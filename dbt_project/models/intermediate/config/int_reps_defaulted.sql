-- The sales org: the org sheet when the company keeps one; without it (the sheet absent or
-- empty) every CRM user is a person of the org, under their CRM id, in the region
-- '{{ unknown_region() }}' (the pages say regions are unknown), a manager when someone reports
-- to them in the CRM. WeCom and U8 ids are unknown then: only the org sheet links them.
-- A view rather than ephemeral, so that the rule has a unit test.
{{ config(materialized='view') }}

with

org_reps as (
    select * from {{ ref('stg_sheets__org_reps') }}
),

users as (
    select * from {{ ref('stg_crm__users') }}
),

managers as (
    select distinct manager_user_id as user_id
    from users
    where manager_user_id is not null
),

from_crm as (
    select
        users.user_id as rep_id,
        users.manager_user_id as manager_id,
        users.user_id as crm_user_id,
        cast(null as string) as wecom_userid,
        cast(null as string) as u8_person_code,
        users.user_name as rep_name,
        '{{ unknown_region() }}' as region,
        case when managers.user_id is not null then 'manager' else 'rep' end as rep_role,
        cast(null as date) as hire_date,
        cast(null as date) as leave_date
    from users
    left join managers on users.user_id = managers.user_id
    where not exists (select 1 from org_reps)
),

final as (
    select
        rep_id,
        manager_id,
        crm_user_id,
        wecom_userid,
        u8_person_code,
        rep_name,
        region,
        rep_role,
        hire_date,
        leave_date
    from org_reps
    union all
    select * from from_crm
)

select * from final
