-- Display names of the canonical stages: the CRM stage name the stage-config sheet maps to it
-- (the first, by name, when several CRM stages map to one).
with

stage_config as (
    select * from {{ ref('stg_sheets__stage_config') }}
),

final as (
    select
        stage,
        min(crm_stage_name) as stage_label,
        min(stage_order) as stage_order
    from stage_config
    group by stage
)

select * from final
