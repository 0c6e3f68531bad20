select * from reporting.rpt_lead_routing
