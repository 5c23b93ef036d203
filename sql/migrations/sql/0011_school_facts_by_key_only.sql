-- core.fact_school_period keeps one index, its primary key (the grain). The district index
-- (ma_don_vi, nam_hoc, ky_bao_cao) cost every published fact a second btree entry, 3.5 ms of a national
-- chunk's 36 ms publish, for two lookups that need no index of their own: a submission's schools are its
-- staging.truong_lop rows (append-only, BRIN on submission_id: never out of date), and each school's fact
-- is found by the primary key. Publishing deletes a replaced submission's facts that way
-- (sql/load/publish.sql), and the year-on-year check reads the previous year's facts that way
-- (etl/history.py). A whole-table read (the roll-up, an analyst's district filter) never used it: a
-- sequential scan is cheaper at any size where the facts are a whole province or country.
drop index core.fact_school_period_district_idx;
