-- Forecast accuracy month over month, all regions together: both forecasts as they stood on
-- the month's first day against what U8 invoiced and received that month, the error of each
-- (|forecast - invoiced| / invoiced) and how it moved against the month before. Months still
-- running are marked so that a half-month's invoices are not read as a miss.
with

by_region as (
    select * from {{ ref('rpt_forecast_vs_actual') }}
),

monthly as (
    select
        month,
        sum(forecast_amount) as forecast_amount,
        sum(empirical_forecast_amount) as empirical_forecast_amount,
        sum(actual_invoiced) as actual_invoiced,
        sum(actual_received) as actual_received
    from by_region
    group by month
),

errors as (
    select
        month,
        forecast_amount,
        empirical_forecast_amount,
        actual_invoiced,
        actual_received,
        cast(abs(forecast_amount - actual_invoiced) / nullif(actual_invoiced, 0) as double)
            as pct_error,
        cast(
            abs(empirical_forecast_amount - actual_invoiced) / nullif(actual_invoiced, 0)
            as double
        ) as empirical_pct_error,
        {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month')) }} > {{ as_of_date() }}
            as is_month_running
    from monthly
),

final as (
    select
        month,
        cast(forecast_amount as decimal(18, 2)) as forecast_amount,
        cast(empirical_forecast_amount as decimal(18, 2)) as empirical_forecast_amount,
        cast(actual_invoiced as decimal(18, 2)) as actual_invoiced,
        cast(actual_received as decimal(18, 2)) as actual_received,
        pct_error,
        empirical_pct_error,
        cast(
            pct_error - lag(pct_error) over (order by month) as double
        ) as pct_error_change,
        cast(
            empirical_pct_error - lag(empirical_pct_error) over (order by month) as double
        ) as empirical_pct_error_change,
        is_month_running
    from errors
)

select * from final
