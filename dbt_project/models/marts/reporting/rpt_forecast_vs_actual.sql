-- Forecast against revenue booked in U8, per month x region: the weighted forecast as it
-- stood on the first day of the month (open opportunities expected to close that month)
-- against invoices (SaleBillVouch) and receipts (收款单) of that month.
with

pipeline as (
    select * from {{ ref('fct_pipeline_daily') }}
),

invoices as (
    select * from {{ ref('stg_u8__invoices') }}
),

invoice_lines as (
    select * from {{ ref('stg_u8__invoice_lines') }}
),

receipts as (
    select * from {{ ref('stg_u8__receipts') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

forecast as (
    select
        region,
        cast({{ dbt.date_trunc('month', 'pipeline_date') }} as date) as month,
        sum(weighted_amount) as forecast_amount,
        sum(amount) as pipeline_amount
    from pipeline
    where
        pipeline_date = cast({{ dbt.date_trunc('month', 'pipeline_date') }} as date)
        and cast({{ dbt.date_trunc('month', 'expected_close_date') }} as date)
        = cast({{ dbt.date_trunc('month', 'pipeline_date') }} as date)
    group by 1, 2
),

invoiced as (
    select
        reps.region,
        cast({{ dbt.date_trunc('month', 'invoices.invoice_date') }} as date) as month,
        sum(invoice_lines.gross_amount) as actual_invoiced
    from invoices
    inner join invoice_lines on invoices.invoice_id = invoice_lines.invoice_id
    left join reps on invoices.u8_person_code = reps.u8_person_code
    group by 1, 2
),

received as (
    select
        reps.region,
        cast({{ dbt.date_trunc('month', 'receipts.receipt_date') }} as date) as month,
        sum(receipts.amount) as actual_received
    from receipts
    left join reps on receipts.u8_person_code = reps.u8_person_code
    group by 1, 2
),

keys as (
    select
        region,
        month
    from forecast
    union
    select
        region,
        month
    from invoiced
    union
    select
        region,
        month
    from received
),

final as (
    select
        keys.month,
        coalesce(keys.region, '未分配') as region,
        cast(coalesce(forecast.forecast_amount, 0) as decimal(18, 2)) as forecast_amount,
        cast(coalesce(forecast.pipeline_amount, 0) as decimal(18, 2)) as pipeline_amount,
        cast(coalesce(invoiced.actual_invoiced, 0) as decimal(18, 2)) as actual_invoiced,
        cast(coalesce(received.actual_received, 0) as decimal(18, 2)) as actual_received,
        cast(
            abs(coalesce(forecast.forecast_amount, 0) - coalesce(invoiced.actual_invoiced, 0))
            as decimal(18, 2)
        ) as abs_error,
        cast(
            abs(coalesce(forecast.forecast_amount, 0) - coalesce(invoiced.actual_invoiced, 0))
            / nullif(invoiced.actual_invoiced, 0) as double
        ) as pct_error
    from keys
    left join forecast on keys.region = forecast.region and keys.month = forecast.month
    left join invoiced on keys.region = invoiced.region and keys.month = invoiced.month
    left join received on keys.region = received.region and keys.month = received.month
)

select * from final
