select * from reporting.rpt_process_health
