-- Publishing, last part (etl.load.publish_accepted, after publish_winners.sql and, when a current
-- submission is replaced, retire_replaced.sql): the winners become current and their facts are written
-- from their staging rows. Input, integers written in by publish_accepted: :winner_ids, the winners'
-- submission ids; :batch_first_id and :batch_last_id, the batch's lowest and highest submission id.
-- A winner's district and period are its dq.submission row's.

-- The winners become current, and their periods wait for their roll-up (mart.period_to_roll_up, migration
-- 0015): the next roll-up takes them with its own, so a night whose roll-up failed after this commit is rolled
-- up the next time. One statement: planning is most of what each small statement costs on a province.
with published as (
    insert into core.current_submission (ma_don_vi, nam_hoc, ky_bao_cao, submission_id)
    select ma_don_vi, nam_hoc, ky_bao_cao, submission_id
    from dq.submission
    where submission_id in (:winner_ids)
    on conflict (ma_don_vi, nam_hoc, ky_bao_cao) do update set submission_id = excluded.submission_id
    returning nam_hoc, ky_bao_cao
)
insert into mart.period_to_roll_up (nam_hoc, ky_bao_cao)
select distinct nam_hoc, ky_bao_cao
from published
on conflict do nothing;

insert into core.fact_district_period
    (ma_don_vi, nam_hoc, ky_bao_cao, submission_id, nguoi_lap, dien_thoai, email, ngay_lap,
     dan_so_0_2, dan_so_3_5, dan_so_5)
select
    winner.ma_don_vi, winner.nam_hoc, winner.ky_bao_cao, winner.submission_id,
    thong_tin.nguoi_lap, thong_tin.dien_thoai, thong_tin.email, thong_tin.ngay_lap,
    coalesce(thong_tin.dan_so_0_2, 0), coalesce(thong_tin.dan_so_3_5, 0), coalesce(thong_tin.dan_so_5, 0)
from dq.submission as winner
join staging.thong_tin as thong_tin using (submission_id)
where winner.submission_id in (:winner_ids);

-- Staging is append-only and BRIN-indexed on submission_id (migration 0006): the batch's id range lets the
-- joins below read only this batch's pages, however many years of versions staging holds. The range is
-- written in as literals (eight min/max subqueries cost more to plan and run than the joins' scans on a
-- province). The planner cannot estimate it (the batch's rows are not analysed yet): it guesses a few
-- rows and picks nested loops that compare every pair (1.3 s a chunk). Hash joins are right at every size
-- here, so nested loops are off for these two statements.
set local enable_nestloop = off;

-- The four per-school sheets joined on the school code. TruongLop and DoiNgu list every school (a missing
-- school is an error, so never published); ratings and training may be empty (HKI): empty counts are 0.
-- The registry is not read: an unknown school and an empty loai_hinh are errors, so never published.
-- Joining it (for loai_hinh) cost a pass over every registered school per chunk (28,000 nationally, 4 ms
-- of 30), and would have dropped, not reported, a school it lacked.
insert into core.fact_school_period (
    ma_truong, nam_hoc, ky_bao_cao, ma_don_vi, submission_id, loai_hinh, dat_chuan_qg,
    so_nhom_tre, so_lop_mau_giao, so_lop_5_tuoi, tre_nha_tre, tre_mau_giao, tre_5_tuoi,
    cbql_tong, cbql_bien_che, cbql_dang_vien, cbql_td_duoi_trung_cap, cbql_td_trung_cap, cbql_td_cao_dang,
    cbql_td_dai_hoc, cbql_td_sau_dai_hoc, gv_tong, gv_bien_che, gv_td_duoi_trung_cap, gv_td_trung_cap,
    gv_td_cao_dang, gv_td_dai_hoc, gv_td_sau_dai_hoc, gv_hang_1, gv_hang_2, gv_hang_3,
    gv_hang_4, gv_chua_xep_hang, nv_tong, gv_nghi_huu, gv_tuyen_moi, gv_duoc_danh_gia,
    gv_tot, gv_kha, gv_dat, gv_chua_dat, cbql_duoc_danh_gia, cbql_tot,
    cbql_kha, cbql_dat, cbql_chua_dat, gv_cot_can, cbql_cot_can, cot_can_bd_ho_tro,
    gv_bd_theo_chuan, cbql_bd_theo_chuan, gv_hoan_thanh_bdtx, cbql_hoan_thanh_bdtx, gv_tin_hoc, cbql_tin_hoc,
    gv_ngoai_ngu, cbql_ngoai_ngu, gv_llct, cbql_llct, gv_bo_nhiem_hang, gv_bo_nhiem_hang_co_cc,
    cbql_bo_nhiem, cbql_bo_nhiem_co_cc
)
select
    truong_lop.ma_truong, winner.nam_hoc, winner.ky_bao_cao, winner.ma_don_vi, winner.submission_id,
    truong_lop.loai_hinh, coalesce(truong_lop.dat_chuan_qg, 0),
    coalesce(truong_lop.so_nhom_tre, 0), coalesce(truong_lop.so_lop_mau_giao, 0), coalesce(truong_lop.so_lop_5_tuoi, 0), coalesce(truong_lop.tre_nha_tre, 0),
    coalesce(truong_lop.tre_mau_giao, 0), coalesce(truong_lop.tre_5_tuoi, 0), coalesce(doi_ngu.cbql_tong, 0), coalesce(doi_ngu.cbql_bien_che, 0),
    coalesce(doi_ngu.cbql_dang_vien, 0), coalesce(doi_ngu.cbql_td_duoi_trung_cap, 0), coalesce(doi_ngu.cbql_td_trung_cap, 0), coalesce(doi_ngu.cbql_td_cao_dang, 0),
    coalesce(doi_ngu.cbql_td_dai_hoc, 0), coalesce(doi_ngu.cbql_td_sau_dai_hoc, 0), coalesce(doi_ngu.gv_tong, 0), coalesce(doi_ngu.gv_bien_che, 0),
    coalesce(doi_ngu.gv_td_duoi_trung_cap, 0), coalesce(doi_ngu.gv_td_trung_cap, 0), coalesce(doi_ngu.gv_td_cao_dang, 0), coalesce(doi_ngu.gv_td_dai_hoc, 0),
    coalesce(doi_ngu.gv_td_sau_dai_hoc, 0), coalesce(doi_ngu.gv_hang_1, 0), coalesce(doi_ngu.gv_hang_2, 0), coalesce(doi_ngu.gv_hang_3, 0),
    coalesce(doi_ngu.gv_hang_4, 0), coalesce(doi_ngu.gv_chua_xep_hang, 0), coalesce(doi_ngu.nv_tong, 0), coalesce(doi_ngu.gv_nghi_huu, 0),
    coalesce(doi_ngu.gv_tuyen_moi, 0), coalesce(danh_gia_chuan.gv_duoc_danh_gia, 0), coalesce(danh_gia_chuan.gv_tot, 0), coalesce(danh_gia_chuan.gv_kha, 0),
    coalesce(danh_gia_chuan.gv_dat, 0), coalesce(danh_gia_chuan.gv_chua_dat, 0), coalesce(danh_gia_chuan.cbql_duoc_danh_gia, 0), coalesce(danh_gia_chuan.cbql_tot, 0),
    coalesce(danh_gia_chuan.cbql_kha, 0), coalesce(danh_gia_chuan.cbql_dat, 0), coalesce(danh_gia_chuan.cbql_chua_dat, 0), coalesce(boi_duong.gv_cot_can, 0),
    coalesce(boi_duong.cbql_cot_can, 0), coalesce(boi_duong.cot_can_bd_ho_tro, 0), coalesce(boi_duong.gv_bd_theo_chuan, 0), coalesce(boi_duong.cbql_bd_theo_chuan, 0),
    coalesce(boi_duong.gv_hoan_thanh_bdtx, 0), coalesce(boi_duong.cbql_hoan_thanh_bdtx, 0), coalesce(boi_duong.gv_tin_hoc, 0), coalesce(boi_duong.cbql_tin_hoc, 0),
    coalesce(boi_duong.gv_ngoai_ngu, 0), coalesce(boi_duong.cbql_ngoai_ngu, 0), coalesce(boi_duong.gv_llct, 0), coalesce(boi_duong.cbql_llct, 0),
    coalesce(boi_duong.gv_bo_nhiem_hang, 0), coalesce(boi_duong.gv_bo_nhiem_hang_co_cc, 0), coalesce(boi_duong.cbql_bo_nhiem, 0), coalesce(boi_duong.cbql_bo_nhiem_co_cc, 0)
from dq.submission as winner
join staging.truong_lop as truong_lop
    on truong_lop.submission_id = winner.submission_id
    and truong_lop.submission_id between :batch_first_id and :batch_last_id
left join staging.doi_ngu as doi_ngu
    on doi_ngu.submission_id = winner.submission_id and doi_ngu.ma_truong = truong_lop.ma_truong
    and doi_ngu.submission_id between :batch_first_id and :batch_last_id
left join staging.danh_gia_chuan as danh_gia_chuan
    on danh_gia_chuan.submission_id = winner.submission_id and danh_gia_chuan.ma_truong = truong_lop.ma_truong
    and danh_gia_chuan.submission_id between :batch_first_id and :batch_last_id
left join staging.boi_duong as boi_duong
    on boi_duong.submission_id = winner.submission_id and boi_duong.ma_truong = truong_lop.ma_truong
    and boi_duong.submission_id between :batch_first_id and :batch_last_id
where winner.submission_id in (:winner_ids);

insert into core.fact_training_course
    (ma_don_vi, nam_hoc, ky_bao_cao, course_number, submission_id, ten_lop, hinh_thuc, so_hoc_vien,
     so_hoan_thanh, kinh_phi, nguon_kinh_phi)
select
    winner.ma_don_vi, winner.nam_hoc, winner.ky_bao_cao,
    row_number() over (partition by winner.submission_id order by course.row_number),
    winner.submission_id, course.ten_lop, course.hinh_thuc, coalesce(course.so_hoc_vien, 0),
    coalesce(course.so_hoan_thanh, 0), coalesce(course.kinh_phi, 0), course.nguon_kinh_phi
from dq.submission as winner
join staging.lop_boi_duong as course
    on course.submission_id = winner.submission_id
    and course.submission_id between :batch_first_id and :batch_last_id
where winner.submission_id in (:winner_ids);

reset enable_nestloop;
