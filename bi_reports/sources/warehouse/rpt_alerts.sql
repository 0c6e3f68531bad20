select * from reporting.rpt_alerts
