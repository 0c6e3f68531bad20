select * from reporting.rpt_deal_win_probability
