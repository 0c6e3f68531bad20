with

source as (
    select * from {{ source('crm', 'opportunities') }}
),

renamed as (
    select
        id as opportunity_id,
        account_id,
        owner_id,
        name as opportunity_name,
        stage_name as crm_stage_name,
        lead_source,
        forecast_category_name,
        next_step,
        decision_chain_c as decision_chain,
        objection_c as objection,
        cast(amount as decimal(18, 2)) as amount,
        probability,
        coalesce(is_closed, false) as is_closed,
        coalesce(is_won, false) as is_won,
        coalesce(is_deleted, false) as is_deleted,
        close_date,
        next_step_date_c as next_step_date,
        created_date as created_at,
        system_modstamp as modified_at
    from source
)

select * from renamed
