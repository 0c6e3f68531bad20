select * from reporting.rpt_funnel_conversion
