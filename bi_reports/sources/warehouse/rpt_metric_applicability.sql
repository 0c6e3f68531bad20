select * from reporting.rpt_metric_applicability
