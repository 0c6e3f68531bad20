-- Whether each metric family can be computed from what the sources delivered: a metric that
-- needs an optional column (or object) the last load lacked (ops.source_contract) is not
-- applicable, with the reason, and its marts hold nulls instead of figures computed on nulls.
-- The pages read this to say 不适用 and why. One row per metric, applicable or not.
with

source_contract as (
    select * from {{ ref('stg_ops__source_contract') }}
),

-- metric -> the source columns it cannot be right without (object, column as the contract
-- names them in ingest/<source>/settings.py)
requirements as (
    {%- for metric, label, source_name, object_name, column_name in [
        ('forecast', '预测金额（加权、经验、赢单预测）', 'crm', 'Opportunity', 'Amount'),
        ('forecast', '预测金额（加权、经验、赢单预测）', 'crm', 'Opportunity', 'CloseDate'),
        ('pipeline_amount', '在途与瀑布金额', 'crm', 'Opportunity', 'Amount'),
        ('info_completeness', '信息完整度（PHI）', 'crm', 'Opportunity', 'Decision_Chain__c'),
        ('info_completeness', '信息完整度（PHI）', 'crm', 'Opportunity', 'Objection__c'),
        ('info_completeness', '信息完整度（PHI）', 'crm', 'Opportunity', 'NextStep'),
        ('info_completeness', '信息完整度（PHI）', 'crm', 'Opportunity', 'Next_Step_Date__c'),
    ] %}
        {{ "union all" if not loop.first }}
        select
            '{{ metric }}' as metric,
            '{{ label }}' as metric_label,
            '{{ source_name }}' as source_name,
            '{{ object_name }}' as object_name,
            '{{ column_name }}' as column_name
    {%- endfor %}
),

gaps as (
    select distinct
        requirements.metric,
        {{ dbt.concat([
            source_label('requirements.source_name'), "' '", 'requirements.object_name',
            "case when source_contract.column_name is null then '' else '.' end",
            "coalesce(source_contract.column_name, '')",
        ]) }} as missing
    from requirements
    inner join source_contract
        on
            requirements.source_name = source_contract.source_name
            and requirements.object_name = source_contract.object_name
            and (
                source_contract.status = 'missing_object'
                or (
                    source_contract.status = 'missing_optional'
                    and lower(source_contract.column_name) = lower(requirements.column_name)
                )
            )
),

metrics as (
    select distinct
        metric,
        metric_label
    from requirements
),

reasons as (
    select
        metric,
        {{ dbt.listagg('missing', "'、'", 'order by missing') }} as missing
    from gaps
    group by metric
),

final as (
    select
        metrics.metric,
        metrics.metric_label,
        reasons.metric is null as is_applicable,
        case
            when reasons.metric is not null
                then {{ dbt.concat(["'数据源缺少 '", 'reasons.missing']) }}
        end as reason
    from metrics
    left join reasons on metrics.metric = reasons.metric
)

select * from final
