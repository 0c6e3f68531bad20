with

source as (
    select * from {{ source('crm', 'opportunity_history') }}
),

renamed as (
    select
        id as opportunity_history_id,
        opportunity_id,
        created_by_id,
        stage_name as crm_stage_name,
        forecast_category,
        amount,
        probability,
        coalesce(is_deleted, false) as is_deleted,
        close_date,
        created_date as changed_at
    from source
)

select * from renamed
