-- When each lead was assigned to a person. A lead created into a queue (owner 00G...) is
-- assigned at its first owner change to a user (005...); a lead created with a user as owner
-- was assigned when created.
with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

lead_history as (
    select * from {{ ref('stg_crm__lead_history') }}
),

owner_changes as (
    select
        lead_id,
        old_value,
        new_value,
        changed_at,
        row_number() over (partition by lead_id order by changed_at, lead_history_id) as change_no
    from lead_history
    where field_name = 'Owner' and not is_deleted
),

first_owner as (
    select
        leads.lead_id,
        coalesce(owner_changes.old_value, leads.owner_id) as creation_owner_id
    from leads
    left join owner_changes
        on leads.lead_id = owner_changes.lead_id and owner_changes.change_no = 1
),

first_user_assignment as (
    select
        lead_id,
        min(changed_at) as assigned_at
    from owner_changes
    where new_value like '005%'
    group by lead_id
),

assigned as (
    select
        leads.lead_id,
        case when leads.owner_id like '005%' then leads.owner_id end as owner_user_id,
        case
            when first_owner.creation_owner_id like '005%' then leads.created_at
            else first_user_assignment.assigned_at
        end as assigned_at
    from leads
    inner join first_owner on leads.lead_id = first_owner.lead_id
    left join first_user_assignment on leads.lead_id = first_user_assignment.lead_id
)

select * from assigned
