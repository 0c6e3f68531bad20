select * from reporting.rpt_identity_match
