select * from reporting.rpt_pipeline_waterfall
