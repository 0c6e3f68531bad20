-- When each lead was assigned to a person. A lead created into a queue (owner 00G...) is
-- assigned at its first owner change to a user; a lead created with a user as owner was
-- assigned when created. Salesforce writes an owner change twice, once with ids (005... /
-- 00G...) and once with display names, and an export may keep either or both: an owner value
-- is a user when it is a user id (005...) or the Name of a CRM user, and the rows of one
-- change (same lead, same time) count once.
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

lead_history as (
    select * from {{ ref('stg_crm__lead_history') }}
),

users as (
    select * from {{ ref('stg_crm__users') }}
),

user_names as (
    select distinct user_name
    from users
    where user_name is not null
),

owner_rows as (
    select
        lead_history.lead_id,
        lead_history.changed_at,
        lead_history.old_value like '005%' or old_names.user_name is not null as old_is_user,
        lead_history.new_value like '005%' or new_names.user_name is not null as new_is_user
    from lead_history
    left join user_names as old_names on lead_history.old_value = old_names.user_name
    left join user_names as new_names on lead_history.new_value = new_names.user_name
    where lead_history.field_name = 'Owner' and not lead_history.is_deleted
),

owner_changes as (
    select
        lead_id,
        changed_at,
        bool_or(old_is_user) as old_is_user,
        bool_or(new_is_user) as new_is_user,
        row_number() over (partition by lead_id order by changed_at) as change_no
    from owner_rows
    group by lead_id, changed_at
),

first_owner as (
    select
        leads.lead_id,
        coalesce(owner_changes.old_is_user, leads.owner_id like '005%') as created_with_user
    from leads
    left join owner_changes
        on leads.lead_id = owner_changes.lead_id and owner_changes.change_no = 1
),

first_user_assignment as (
    select
        lead_id,
        min(changed_at) as assigned_at
    from owner_changes
    where new_is_user
    group by lead_id
),

assigned as (
    select
        leads.lead_id,
        case when leads.owner_id like '005%' then leads.owner_id end as owner_user_id,
        case
            when first_owner.created_with_user then leads.created_at
            else first_user_assignment.assigned_at
        end as assigned_at
    from leads
    inner join first_owner on leads.lead_id = first_owner.lead_id
    left join first_user_assignment on leads.lead_id = first_user_assignment.lead_id
)

select * from assigned
