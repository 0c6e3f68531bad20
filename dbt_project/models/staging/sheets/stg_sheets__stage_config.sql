with

source as (
    select * from {{ source('sheets', 'stage_config') }}
),

renamed as (
    select
        trim(cast(crm_stage_name as string)) as crm_stage_name,
        lower(trim(cast(stage as string))) as stage,
        nullif(trim(cast(required_evidence as string)), '') as required_evidence,
        cast(stage_order as integer) as stage_order,
        cast(win_probability as decimal(9, 4)) as win_probability
    from source
)

select * from renamed
