-- Forecast against revenue booked in U8, per month x region: the forecasts as they stood on
-- the first day of the month (open opportunities expected to close that month) against
-- invoices (SaleBillVouch) and receipts (收款单) of that month, and the month's targets.
--   weighted:  amount x the stage's win probability from the stage-config sheet;
--   empirical: amount x the share of deals that entered the same stage and were won, among
--              those closed (won or lost) before the month began; the configured probability
--              until a stage has empirical_min_closed closed deals behind it.
-- Without the amounts or close dates (rpt_metric_applicability) the forecasts and their
-- errors are null, never 0; the actuals stand. Without U8's invoice amounts (SaleBillVouchs.iSum)
-- the invoiced actual and the errors against it are null, and without its receipt amounts
-- (Ap_CloseBill.iAmount) the received actual: a blank U8 column is no revenue of 0.
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

stage_history as (
    select * from {{ ref('fct_stage_history') }}
),

targets as (
    select * from {{ ref('stg_sheets__targets') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

outcomes as (
    select * from {{ ref('int_deal_outcomes') }}
),

closed_entries as (
    select
        stage_history.stage,
        outcomes.closed_date_in_history as closed_date,
        outcomes.is_won_in_history as is_won
    from stage_history
    inner join outcomes on stage_history.opportunity_id = outcomes.opportunity_id
    where
        outcomes.closed_date_in_history is not null
        and stage_history.stage in ({{ open_stages() }})
),

forecast_months as (
    select distinct pipeline_date as month
    from pipeline
    where pipeline_date = cast({{ dbt.date_trunc('month', 'pipeline_date') }} as date)
),

empirical_rates as (
    select
        forecast_months.month,
        closed_entries.stage,
        count(*) as closed_deals,
        avg(case when closed_entries.is_won then 1 else 0 end) as win_rate
    from forecast_months
    inner join closed_entries on forecast_months.month > closed_entries.closed_date
    group by forecast_months.month, closed_entries.stage
),

forecast as (
    select
        pipeline.region,
        pipeline.pipeline_date as month,
        sum(pipeline.weighted_amount) as forecast_amount,
        -- each deal rounded to the fen first, so the sum does not depend on summation order
        sum(
            cast(
                pipeline.amount * case
                    when empirical_rates.closed_deals >= settings.empirical_min_closed
                        then empirical_rates.win_rate
                    else pipeline.win_probability
                end as decimal(18, 2)
            )
        ) as empirical_forecast_amount,
        sum(pipeline.amount) as pipeline_amount
    from pipeline
    cross join settings
    left join empirical_rates
        on
            pipeline.pipeline_date = empirical_rates.month
            and pipeline.stage = empirical_rates.stage
    where
        pipeline.pipeline_date
        = cast({{ dbt.date_trunc('month', 'pipeline.pipeline_date') }} as date)
        and cast({{ dbt.date_trunc('month', 'pipeline.expected_close_date') }} as date)
        = pipeline.pipeline_date
    group by pipeline.region, pipeline.pipeline_date
),

-- U8 money by the region of the salesperson on the document: invoiced (gross, per line) and
-- received
u8_money as (
    select
        reps.region,
        invoices.invoice_date as money_date,
        invoice_lines.gross_amount as invoiced,
        cast(null as decimal(18, 2)) as received
    from invoices
    inner join invoice_lines on invoices.invoice_id = invoice_lines.invoice_id
    left join reps on invoices.u8_person_code = reps.u8_person_code
    union all
    select
        reps.region,
        receipts.receipt_date as money_date,
        cast(null as decimal(18, 2)) as invoiced,
        receipts.amount as received
    from receipts
    left join reps on receipts.u8_person_code = reps.u8_person_code
),

actuals as (
    select
        region,
        cast({{ dbt.date_trunc('month', 'money_date') }} as date) as month,
        sum(invoiced) as actual_invoiced,
        sum(received) as actual_received
    from u8_money
    group by region, cast({{ dbt.date_trunc('month', 'money_date') }} as date)
),

region_targets as (
    select
        target_month as month,
        region,
        sum(booking_target) as booking_target,
        sum(collection_target) as collection_target
    from targets
    where rep_id is null
    group by target_month, region
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
    from actuals
    union
    select
        region,
        month
    from region_targets
    where month <= {{ as_of_date() }}
),

applicability as (
    {{ metric_applicability('forecast') }}
),

invoiced_applicability as (
    {{ metric_applicability('actual_invoiced') }}
),

received_applicability as (
    {{ metric_applicability('actual_received') }}
),

-- the errors compare the forecast with the invoiced actual: they need both
error_applicability as (
    select applicability.is_applicable and invoiced_applicability.is_applicable as is_applicable
    from applicability
    cross join invoiced_applicability
),

final as (
    select
        keys.month,
        coalesce(keys.region, '{{ unassigned() }}') as region,
        {{ applicable_amount('forecast.forecast_amount') }} as forecast_amount,
        {{ applicable_amount('forecast.empirical_forecast_amount') }} as empirical_forecast_amount,
        {{ applicable_amount('forecast.pipeline_amount') }} as pipeline_amount,
        {{ applicable_amount('actuals.actual_invoiced', 'invoiced_applicability') }}
            as actual_invoiced,
        {{ applicable_amount('actuals.actual_received', 'received_applicability') }}
            as actual_received,
        {{ applicable_amount(
            'abs(coalesce(forecast.forecast_amount, 0) - coalesce(actuals.actual_invoiced, 0))',
            'error_applicability'
        ) }} as abs_error,
        {{ applicable_pct_error(
            'forecast.forecast_amount', 'actuals.actual_invoiced', 'error_applicability'
        ) }} as pct_error,
        {{ applicable_pct_error(
            'forecast.empirical_forecast_amount', 'actuals.actual_invoiced', 'error_applicability'
        ) }} as empirical_pct_error,
        cast(region_targets.booking_target as decimal(18, 2)) as booking_target,
        cast(region_targets.collection_target as decimal(18, 2)) as collection_target
    from keys
    cross join applicability
    cross join invoiced_applicability
    cross join received_applicability
    cross join error_applicability
    left join forecast on keys.region = forecast.region and keys.month = forecast.month
    left join actuals on keys.region = actuals.region and keys.month = actuals.month
    left join region_targets
        on keys.region = region_targets.region and keys.month = region_targets.month
)

select * from final
