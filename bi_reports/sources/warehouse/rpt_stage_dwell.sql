select * from reporting.rpt_stage_dwell
