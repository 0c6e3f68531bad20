select * from reporting.rpt_forecast_backtest
