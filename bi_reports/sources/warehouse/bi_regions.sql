select * from reporting.bi_regions
