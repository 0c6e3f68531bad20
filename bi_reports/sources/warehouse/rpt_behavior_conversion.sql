select * from reporting.rpt_behavior_conversion
