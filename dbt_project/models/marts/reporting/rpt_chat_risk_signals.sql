-- The chat-risk page (沟通风险): one row per risk signal in what customers said (WeCom messages
-- and CRM notes; int_chat_risk_signals): kind, risk type and level, the keyword, the
-- dictionary's suggested response, the deal, customer and rep, and the words themselves with
-- phone numbers and e-mail addresses masked.
with

signals as (
    select * from {{ ref('int_chat_risk_signals') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

final as (
    select
        signals.signal_id,
        signals.signal_kind,
        case signals.signal_kind
            when 'competitor_price' then '竞品比价'
            when 'vague_commitment' then '含糊承诺'
            else '风险词'
        end as signal_label,
        signals.text_source,
        signals.text_id,
        case signals.text_source when 'wecom' then '企业微信' else 'CRM 记录' end
            as source_label,
        signals.rep_id,
        coalesce(reps.rep_name, '{{ unassigned() }}') as rep_name,
        reps.region,
        signals.opportunity_id,
        coalesce(opportunities.opportunity_name, '-') as opportunity_name,
        coalesce(accounts.account_name, signals.company_name, '-') as customer_name,
        signals.risk_type,
        signals.risk_level,
        case signals.risk_level when 'high' then '高' when 'medium' then '中' else '低' end
            as risk_level_label,
        signals.keyword,
        coalesce(signals.suggested_action, '-') as suggested_action,
        {{ mask_personal('signals.said_text') }} as excerpt,
        signals.said_at,
        cast({{ to_local('signals.said_at') }} as timestamp) as said_local
    from signals
    left join opportunities on signals.opportunity_id = opportunities.opportunity_id
    left join accounts on signals.account_id = accounts.account_id
    left join reps on signals.rep_id = reps.rep_id
)

select * from final
