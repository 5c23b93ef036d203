-- Loading at COPY speed (issue 5: within 2x of a bare COPY of the same rows).
--
-- Staging becomes an append-only landing area: the per-sheet tables drop their primary keys (a btree on
-- (submission_id, row_number) cost 0.06-0.08 s of a 0.11 s national COPY) for a BRIN index on
-- submission_id. Rows arrive in submission order, one COPY per chunk of submissions, and are never
-- updated or deleted, so a BRIN range summary finds one night's rows (publishing, analysts' lookups)
-- at almost no cost to keep up. One row per (submission_id, row_number) holds by construction: the reader
-- gives one row per Excel row, and a submission is staged once, in the transaction that moves it out of
-- 'received' (etl/ingest.py); tests/etl/test_reconciliation.py checks it. staging.thong_tin (one row
-- per submission, a hundred a night) keeps its primary key.
--
-- core.fact_school_period drops its five per-row foreign keys: the per-row checks cost more than the
-- insert itself (55 of 100 ms per chunk of 100 districts). Every key of a fact row comes from
-- sql/load/publish.sql only: the school by an inner join with core.school, the district, school year,
-- round and submission from core.current_submission's row of the same publish, which keeps its foreign
-- keys (one check per district and period, not per school). The reconciliation test checks the
-- relationships like dbt's relationships tests.

alter table staging.truong_lop drop constraint truong_lop_pkey;
alter table staging.doi_ngu drop constraint doi_ngu_pkey;
alter table staging.danh_gia_chuan drop constraint danh_gia_chuan_pkey;
alter table staging.boi_duong drop constraint boi_duong_pkey;
alter table staging.lop_boi_duong drop constraint lop_boi_duong_pkey;

create index truong_lop_submission_brin on staging.truong_lop using brin (submission_id);
create index doi_ngu_submission_brin on staging.doi_ngu using brin (submission_id);
create index danh_gia_chuan_submission_brin on staging.danh_gia_chuan using brin (submission_id);
create index boi_duong_submission_brin on staging.boi_duong using brin (submission_id);
create index lop_boi_duong_submission_brin on staging.lop_boi_duong using brin (submission_id);

alter table core.fact_school_period
    drop constraint fact_school_period_ma_truong_fkey,
    drop constraint fact_school_period_nam_hoc_fkey,
    drop constraint fact_school_period_ky_bao_cao_fkey,
    drop constraint fact_school_period_ma_don_vi_fkey,
    drop constraint fact_school_period_submission_id_fkey;
