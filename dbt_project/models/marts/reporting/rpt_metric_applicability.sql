-- Whether each metric family can be computed from what the sources delivered: a metric that
-- needs an optional column (or object) the last load lacked (ops.source_contract) is not
-- applicable, with the reason, and its marts hold nulls instead of figures computed on nulls.
-- A column that is there but blank in every landed row (status 'empty') counts as missing, and
-- so does a required column the last load lacked (that source did not load: what stands in
-- its raw tables is an earlier load's).
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
        ('lead_conversion', '线索转化率', 'crm', 'Lead', 'IsConverted'),
        ('win_decision_chain', '赢单模型特征：决策链已填写', 'crm', 'Opportunity', 'Decision_Chain__c'),
        ('unverified_visit', '未核实拜访', 'wecom', 'checkin/getcheckindata', 'location_title'),
        ('actual_invoiced', 'U8 实际开票金额', 'u8', 'SaleBillVouchs', 'iSum'),
        ('actual_received', 'U8 实际回款金额', 'u8', 'Ap_CloseBill', 'iAmount'),
        ('erp_order_amount', 'CRM 赢单与 U8 订单金额核对', 'u8', 'SO_SODetails', 'iSum'),
        ('wecom_contact_match', '企业微信客户与 CRM 联系人/线索匹配（手机号）', 'wecom',
            'externalcontact/batch/get_by_user', 'follow_info.remark_mobiles'),
        ('lead_response_wecom', '线索响应：企业微信消息触达', 'wecom',
            'externalcontact/batch/get_by_user', 'follow_info.remark_mobiles'),
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
        source_contract.status = 'empty' as is_empty,
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
                    source_contract.status in ('missing_required', 'missing_optional', 'empty')
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

-- a column left out ("数据源缺少 ...") and a column there but blank in every row ("... 字段全部为空")
missing_reasons as (
    select
        metric,
        {{ dbt.listagg('missing', "'、'", 'order by missing') }} as missing
    from gaps
    where not is_empty
    group by metric
),

empty_reasons as (
    select
        metric,
        {{ dbt.listagg('missing', "'、'", 'order by missing') }} as blank
    from gaps
    where is_empty
    group by metric
),

reasons as (
    select
        metrics.metric,
        case
            when missing_reasons.metric is not null
                then {{ dbt.concat(["'数据源缺少 '", 'missing_reasons.missing']) }}
        end as missing,
        case
            when empty_reasons.metric is not null
                then {{ dbt.concat(['empty_reasons.blank', "' 字段全部为空'"]) }}
        end as blank
    from metrics
    left join missing_reasons on metrics.metric = missing_reasons.metric
    left join empty_reasons on metrics.metric = empty_reasons.metric
    where missing_reasons.metric is not null or empty_reasons.metric is not null
),

final as (
    select
        metrics.metric,
        metrics.metric_label,
        reasons.metric is null as is_applicable,
        case
            when reasons.missing is not null and reasons.blank is not null
                then {{ dbt.concat(['reasons.missing', "'；'", 'reasons.blank']) }}
            else coalesce(reasons.missing, reasons.blank)
        end as reason
    from metrics
    left join reasons on metrics.metric = reasons.metric
)

select * from final
