-- One row per person in the sales org (reps, managers, directors): the org sheet, else CRM users.
with

org_reps as (
    select * from {{ ref('int_reps_defaulted') }}
),

managers as (
    select
        rep_id,
        rep_name
    from org_reps
),

final as (
    select
        org_reps.rep_id,
        org_reps.manager_id,
        org_reps.crm_user_id,
        org_reps.wecom_userid,
        org_reps.u8_person_code,
        org_reps.rep_name,
        managers.rep_name as manager_name,
        org_reps.region,
        org_reps.rep_role,
        org_reps.leave_date is null as is_active,
        org_reps.hire_date,
        org_reps.leave_date
    from org_reps
    left join managers on org_reps.manager_id = managers.rep_id
)

select * from final
