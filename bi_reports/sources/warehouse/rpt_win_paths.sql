select * from reporting.rpt_win_paths
