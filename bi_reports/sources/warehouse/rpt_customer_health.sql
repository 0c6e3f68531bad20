select * from reporting.rpt_customer_health
