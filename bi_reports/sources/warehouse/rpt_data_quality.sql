select * from reporting.rpt_data_quality
