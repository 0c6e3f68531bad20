-- The steps of each closed deal in order: the funnel stages it entered (after the first, up to
-- its close; named as the stage-config sheet names them) and the path steps of the
-- win-behaviour sheet its evidence shows (the first time each), with the day of the deal's
-- life each came on. Deals are counted in their region and in 全部 (the whole org), in their
-- size band and in 全部 (every band).
with

deals as (
    select * from {{ ref('int_deals_closed') }}
),

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

stage_labels as (
    select * from {{ ref('int_stage_labels') }}
),

evidence as (
    select * from {{ ref('int_deal_evidence_matched') }}
),

stage_steps as (
    select
        deals.opportunity_id,
        stage_labels.stage_label as step_name,
        min(stage_history.entered_at) as occurred_at
    from stage_history
    inner join deals on stage_history.opportunity_id = deals.opportunity_id
    inner join stage_labels on stage_history.stage = stage_labels.stage
    where
        stage_history.stage not in ('lead_confirmed', 'lost')
        and stage_history.entered_at <= deals.closed_at
    group by deals.opportunity_id, stage_labels.stage_label
),

evidence_steps as (
    select
        opportunity_id,
        path_step as step_name,
        min(occurred_at) as occurred_at
    from evidence
    where path_step is not null
    group by opportunity_id, path_step
),

steps as (
    select * from stage_steps
    union all
    select * from evidence_steps
),

sequenced as (
    select
        steps.opportunity_id,
        steps.step_name,
        row_number() over (
            partition by steps.opportunity_id order by steps.occurred_at, steps.step_name
        ) as step_position,
        {{ days_between('deals.created_at', 'steps.occurred_at') }} as step_day
    from steps
    inner join deals on steps.opportunity_id = deals.opportunity_id
),

region_scoped as (
    select
        opportunity_id,
        region,
        industry,
        size_band,
        is_won
    from deals
    union all
    select
        opportunity_id,
        '全部' as region,
        industry,
        size_band,
        is_won
    from deals
),

scoped as (
    select
        opportunity_id,
        region,
        industry,
        size_band,
        is_won
    from region_scoped
    union all
    select
        opportunity_id,
        region,
        industry,
        '全部' as size_band,
        is_won
    from region_scoped
),

final as (
    select
        scoped.region,
        scoped.industry,
        scoped.size_band,
        scoped.opportunity_id,
        scoped.is_won,
        sequenced.step_name,
        sequenced.step_position,
        sequenced.step_day
    from scoped
    left join sequenced on scoped.opportunity_id = sequenced.opportunity_id
)

select * from final
