select * from reporting.rpt_chat_risk_signals
