-- Publishing at COPY speed, continued (issue 5). core.fact_district_period and core.fact_training_course
-- drop their per-row foreign keys, as core.fact_school_period did in 0006: the four checks per row (district,
-- school year, round, submission) took two thirds of the course insert and 40 of 256 ms of a national
-- night's publishing. Both tables are written only by sql/load/publish.sql, from the same publish's row
-- of core.current_submission, which keeps its foreign keys: one check per district and period.
-- tests/etl/test_reconciliation.py checks the relationships like dbt's relationships tests.

alter table core.fact_district_period
    drop constraint fact_district_period_ma_don_vi_fkey,
    drop constraint fact_district_period_nam_hoc_fkey,
    drop constraint fact_district_period_ky_bao_cao_fkey,
    drop constraint fact_district_period_submission_id_fkey;

alter table core.fact_training_course
    drop constraint fact_training_course_ma_don_vi_fkey,
    drop constraint fact_training_course_nam_hoc_fkey,
    drop constraint fact_training_course_ky_bao_cao_fkey,
    drop constraint fact_training_course_submission_id_fkey;
