select * from reporting.rpt_open_opportunities
