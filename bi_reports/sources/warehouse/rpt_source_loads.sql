select * from reporting.rpt_source_loads
