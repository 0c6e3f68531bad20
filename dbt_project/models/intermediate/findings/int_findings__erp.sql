-- Truthfulness findings against the ERP (SPEC §6): CRM wins without a U8 order, with another
-- amount, or of an account no U8 customer matches. Every won deal is examined on every run,
-- incremental or not: U8 deletes documents outright (no change stamp says which deals lost
-- their order), and the family reads only won deals and their customers' orders.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

accounts as (
    select * from {{ ref('int_accounts_matched_to_u8') }}
),

u8_orders as (
    select * from {{ ref('stg_u8__sales_orders') }}
),

u8_order_lines as (
    select * from {{ ref('stg_u8__sales_order_lines') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

-- without U8's order amounts (SO_SODetails.iSum blank or missing) no amount is compared: the
-- check says 不适用 (rpt_metric_applicability: erp_order_amount), it finds no mismatch
applicability as (
    {{ metric_applicability('erp_order_amount') }}
),

-- CRM wins against U8 sales orders of the same customer around the close date. Customers
-- match by the account's U8 code, else by an unambiguous company name
-- (int_accounts_matched_to_u8). A won deal of an account without a unique U8 match cannot be
-- verified: it is not a win without an order; its account is customer_unmatched instead.
u8_order_totals as (
    select
        u8_orders.sales_order_id,
        u8_orders.u8_customer_code,
        u8_orders.order_date,
        sum(u8_order_lines.gross_amount) as order_amount
    from u8_orders
    inner join u8_order_lines on u8_orders.sales_order_id = u8_order_lines.sales_order_id
    group by u8_orders.sales_order_id, u8_orders.u8_customer_code, u8_orders.order_date
),

won_deals as (
    select
        opportunities.opportunity_id,
        opportunities.owner_id,
        opportunities.amount,
        opportunities.close_date,
        accounts.account_id,
        accounts.u8_customer_code,
        accounts.u8_match,
        accounts.u8_name_matches
    from opportunities
    inner join accounts on opportunities.account_id = accounts.account_id
    where opportunities.is_won and not opportunities.is_deleted
),

won_vs_orders as (
    select
        won_deals.opportunity_id,
        won_deals.owner_id,
        won_deals.amount,
        won_deals.u8_customer_code,
        count(u8_order_totals.sales_order_id) as orders,
        sum(u8_order_totals.order_amount) as order_amount
    from won_deals
    left join u8_order_totals
        on
            won_deals.u8_customer_code = u8_order_totals.u8_customer_code
            and u8_order_totals.order_date
            >= {{ dbt.dateadd('day', -7, 'won_deals.close_date') }}
            and u8_order_totals.order_date
            <= {{ dbt.dateadd('day', 30, 'won_deals.close_date') }}
    where {{ 'true' if source_exists('u8', 'so_somain') else 'false' }}
    group by
        won_deals.opportunity_id, won_deals.owner_id, won_deals.amount,
        won_deals.u8_customer_code
),

won_without_order as (
    select
        'won_without_order' as rule,
        'high' as severity,
        'opportunities' as source_table,
        opportunity_id as record_id,
        owner_id,
        {{ json_object({
            'crm_amount': 'amount',
            'u8_customer_code': "coalesce(u8_customer_code, '')",
        }) }} as details
    from won_vs_orders
    where orders = 0 and u8_customer_code is not null
),

-- an account with won deals and no unique U8 customer: several share its name (the reason
-- ambiguous_name) or none has its name or code (no_u8_customer); its wins are unverifiable
customer_unmatched as (
    select
        'customer_unmatched' as rule,
        'medium' as severity,
        'accounts' as source_table,
        accounts.account_id as record_id,
        accounts.owner_id,
        {{ json_object({
            'reason': "case when won_deals.u8_match = 'ambiguous_name' then 'ambiguous_name' "
                ~ "else 'no_u8_customer' end",
            'u8_customers_with_name': 'won_deals.u8_name_matches',
            'unverifiable_won_deals': 'count(*)',
            'unverifiable_won_amount': 'coalesce(sum(won_deals.amount), 0)',
        }) }} as details
    from won_deals
    inner join accounts on won_deals.account_id = accounts.account_id
    where
        won_deals.u8_customer_code is null
        and {{ 'true' if source_exists('u8', 'customer') else 'false' }}
    group by
        accounts.account_id, accounts.owner_id, won_deals.u8_match, won_deals.u8_name_matches
),

erp_amount_mismatch as (
    select
        'erp_amount_mismatch' as rule,
        'high' as severity,
        'opportunities' as source_table,
        won_vs_orders.opportunity_id as record_id,
        won_vs_orders.owner_id,
        {{ json_object({
            'crm_amount': 'won_vs_orders.amount',
            'u8_amount': 'won_vs_orders.order_amount',
        }) }} as details
    from won_vs_orders
    cross join settings
    cross join applicability
    where
        applicability.is_applicable
        and won_vs_orders.orders > 0
        and abs(won_vs_orders.order_amount - won_vs_orders.amount)
        > settings.erp_mismatch_tolerance * won_vs_orders.amount
),

final as (
    select * from won_without_order
    union all
    select * from customer_unmatched
    union all
    select * from erp_amount_mismatch
)

select * from final
