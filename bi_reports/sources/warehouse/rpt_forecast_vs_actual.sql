select * from reporting.rpt_forecast_vs_actual
