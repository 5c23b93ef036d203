-- Column comments for every analyst-facing core and dq column (labels from the template layout), and
-- large objects closed to PUBLIC: a read-only analyst must not be able to create anything anywhere.

-- Only the functions' owner (the bootstrap superuser) may revoke: a migrating role that is not a superuser (the
-- owner with CREATEROLE that docs/production.md sets up on a shared server) stopped here with "permission denied
-- for function lo_import", and every later migration with it. It now leaves that to the DBA with a notice
-- (docs/production.md); where the revoke ran before, it runs as it did (this edit changes nothing there).
do $$
begin
    if (select rolsuper from pg_roles where rolname = current_user) then
        revoke execute on function lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea), lo_import(text),
            lo_import(text, oid) from public;
    else
        raise notice 'PUBLIC may still create large objects: the DBA may run REVOKE EXECUTE ON FUNCTION '
            'lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea), lo_import(text), lo_import(text, oid) '
            'FROM PUBLIC (docs/production.md)';
    end if;
end
$$;

comment on column core.fact_school_period.ma_truong is 'School code (core.school).';
comment on column core.fact_school_period.nam_hoc is 'School year.';
comment on column core.fact_school_period.ky_bao_cao is 'Round: HKI or CN.';
comment on column core.fact_school_period.loai_hinh is 'cong_lap, tu_thuc or dan_lap, as reported (else the registry''s).';
comment on column core.fact_school_period.so_nhom_tre is 'Số nhóm trẻ (sheet TruongLop, key so_nhom_tre); an empty cell is 0.';
comment on column core.fact_school_period.so_lop_mau_giao is 'Số lớp mẫu giáo (sheet TruongLop, key so_lop_mau_giao); an empty cell is 0.';
comment on column core.fact_school_period.so_lop_5_tuoi is 'Trong đó: lớp 5 tuổi (sheet TruongLop, key so_lop_5_tuoi); an empty cell is 0.';
comment on column core.fact_school_period.tre_nha_tre is 'Số trẻ nhà trẻ (sheet TruongLop, key tre_nha_tre); an empty cell is 0.';
comment on column core.fact_school_period.tre_mau_giao is 'Số trẻ mẫu giáo (sheet TruongLop, key tre_mau_giao); an empty cell is 0.';
comment on column core.fact_school_period.tre_5_tuoi is 'Trong đó: trẻ 5 tuổi (sheet TruongLop, key tre_5_tuoi); an empty cell is 0.';
comment on column core.fact_school_period.cbql_tong is 'Tổng số CBQL (sheet DoiNgu, key cbql_tong); an empty cell is 0.';
comment on column core.fact_school_period.cbql_bien_che is 'CBQL trong biên chế (sheet DoiNgu, key cbql_bien_che); an empty cell is 0.';
comment on column core.fact_school_period.cbql_dang_vien is 'CBQL là đảng viên (sheet DoiNgu, key cbql_dang_vien); an empty cell is 0.';
comment on column core.fact_school_period.cbql_td_duoi_trung_cap is 'Trình độ CBQL: dưới TC (sheet DoiNgu, key cbql_td_duoi_trung_cap); an empty cell is 0.';
comment on column core.fact_school_period.cbql_td_trung_cap is 'Trình độ CBQL: TC (sheet DoiNgu, key cbql_td_trung_cap); an empty cell is 0.';
comment on column core.fact_school_period.cbql_td_cao_dang is 'Trình độ CBQL: CĐ (sheet DoiNgu, key cbql_td_cao_dang); an empty cell is 0.';
comment on column core.fact_school_period.cbql_td_dai_hoc is 'Trình độ CBQL: ĐH (sheet DoiNgu, key cbql_td_dai_hoc); an empty cell is 0.';
comment on column core.fact_school_period.cbql_td_sau_dai_hoc is 'Trình độ CBQL: trên ĐH (sheet DoiNgu, key cbql_td_sau_dai_hoc); an empty cell is 0.';
comment on column core.fact_school_period.gv_tong is 'Tổng số giáo viên (sheet DoiNgu, key gv_tong); an empty cell is 0.';
comment on column core.fact_school_period.gv_bien_che is 'GV trong biên chế (sheet DoiNgu, key gv_bien_che); an empty cell is 0.';
comment on column core.fact_school_period.gv_td_duoi_trung_cap is 'Trình độ GV: dưới TC (sheet DoiNgu, key gv_td_duoi_trung_cap); an empty cell is 0.';
comment on column core.fact_school_period.gv_td_trung_cap is 'Trình độ GV: TC (sheet DoiNgu, key gv_td_trung_cap); an empty cell is 0.';
comment on column core.fact_school_period.gv_td_cao_dang is 'Trình độ GV: CĐ (sheet DoiNgu, key gv_td_cao_dang); an empty cell is 0.';
comment on column core.fact_school_period.gv_td_dai_hoc is 'Trình độ GV: ĐH (sheet DoiNgu, key gv_td_dai_hoc); an empty cell is 0.';
comment on column core.fact_school_period.gv_td_sau_dai_hoc is 'Trình độ GV: trên ĐH (sheet DoiNgu, key gv_td_sau_dai_hoc); an empty cell is 0.';
comment on column core.fact_school_period.gv_hang_1 is 'GV hạng I (sheet DoiNgu, key gv_hang_1); an empty cell is 0.';
comment on column core.fact_school_period.gv_hang_2 is 'GV hạng II (sheet DoiNgu, key gv_hang_2); an empty cell is 0.';
comment on column core.fact_school_period.gv_hang_3 is 'GV hạng III (sheet DoiNgu, key gv_hang_3); an empty cell is 0.';
comment on column core.fact_school_period.gv_hang_4 is 'GV hạng IV (sheet DoiNgu, key gv_hang_4); an empty cell is 0.';
comment on column core.fact_school_period.gv_chua_xep_hang is 'GV chưa xếp hạng (sheet DoiNgu, key gv_chua_xep_hang); an empty cell is 0.';
comment on column core.fact_school_period.nv_tong is 'Tổng số nhân viên (sheet DoiNgu, key nv_tong); an empty cell is 0.';
comment on column core.fact_school_period.gv_nghi_huu is 'GV nghỉ hưu trong năm (sheet DoiNgu, key gv_nghi_huu); an empty cell is 0.';
comment on column core.fact_school_period.gv_tuyen_moi is 'GV tuyển mới trong năm (sheet DoiNgu, key gv_tuyen_moi); an empty cell is 0.';
comment on column core.fact_school_period.gv_duoc_danh_gia is 'GV được đánh giá (sheet DanhGiaChuan, key gv_duoc_danh_gia); an empty cell is 0.';
comment on column core.fact_school_period.gv_tot is 'GV xếp loại Tốt (sheet DanhGiaChuan, key gv_tot); an empty cell is 0.';
comment on column core.fact_school_period.gv_kha is 'GV xếp loại Khá (sheet DanhGiaChuan, key gv_kha); an empty cell is 0.';
comment on column core.fact_school_period.gv_dat is 'GV xếp loại Đạt (sheet DanhGiaChuan, key gv_dat); an empty cell is 0.';
comment on column core.fact_school_period.gv_chua_dat is 'GV xếp loại Chưa đạt (sheet DanhGiaChuan, key gv_chua_dat); an empty cell is 0.';
comment on column core.fact_school_period.cbql_duoc_danh_gia is 'CBQL được đánh giá (sheet DanhGiaChuan, key cbql_duoc_danh_gia); an empty cell is 0.';
comment on column core.fact_school_period.cbql_tot is 'CBQL xếp loại Tốt (sheet DanhGiaChuan, key cbql_tot); an empty cell is 0.';
comment on column core.fact_school_period.cbql_kha is 'CBQL xếp loại Khá (sheet DanhGiaChuan, key cbql_kha); an empty cell is 0.';
comment on column core.fact_school_period.cbql_dat is 'CBQL xếp loại Đạt (sheet DanhGiaChuan, key cbql_dat); an empty cell is 0.';
comment on column core.fact_school_period.cbql_chua_dat is 'CBQL xếp loại Chưa đạt (sheet DanhGiaChuan, key cbql_chua_dat); an empty cell is 0.';
comment on column core.fact_school_period.gv_cot_can is 'GV cốt cán (sheet BoiDuong, key gv_cot_can); an empty cell is 0.';
comment on column core.fact_school_period.cbql_cot_can is 'CBQL cốt cán (sheet BoiDuong, key cbql_cot_can); an empty cell is 0.';
comment on column core.fact_school_period.cot_can_bd_ho_tro is 'Cốt cán được bồi dưỡng năng lực hỗ trợ đồng nghiệp (sheet BoiDuong, key cot_can_bd_ho_tro); an empty cell is 0.';
comment on column core.fact_school_period.gv_bd_theo_chuan is 'GV được bồi dưỡng nâng cao năng lực theo chuẩn (sheet BoiDuong, key gv_bd_theo_chuan); an empty cell is 0.';
comment on column core.fact_school_period.cbql_bd_theo_chuan is 'CBQL được bồi dưỡng nâng cao năng lực theo chuẩn (sheet BoiDuong, key cbql_bd_theo_chuan); an empty cell is 0.';
comment on column core.fact_school_period.gv_hoan_thanh_bdtx is 'GV hoàn thành bồi dưỡng thường xuyên (sheet BoiDuong, key gv_hoan_thanh_bdtx); an empty cell is 0.';
comment on column core.fact_school_period.cbql_hoan_thanh_bdtx is 'CBQL hoàn thành bồi dưỡng thường xuyên (sheet BoiDuong, key cbql_hoan_thanh_bdtx); an empty cell is 0.';
comment on column core.fact_school_period.gv_tin_hoc is 'GV được bồi dưỡng / có chứng chỉ tin học (sheet BoiDuong, key gv_tin_hoc); an empty cell is 0.';
comment on column core.fact_school_period.cbql_tin_hoc is 'CBQL được bồi dưỡng / có chứng chỉ tin học (sheet BoiDuong, key cbql_tin_hoc); an empty cell is 0.';
comment on column core.fact_school_period.gv_ngoai_ngu is 'GV có trình độ ngoại ngữ bậc 1-2 trở lên (sheet BoiDuong, key gv_ngoai_ngu); an empty cell is 0.';
comment on column core.fact_school_period.cbql_ngoai_ngu is 'CBQL có trình độ ngoại ngữ bậc 1-2 trở lên (sheet BoiDuong, key cbql_ngoai_ngu); an empty cell is 0.';
comment on column core.fact_school_period.gv_llct is 'GV được bồi dưỡng lý luận chính trị (sheet BoiDuong, key gv_llct); an empty cell is 0.';
comment on column core.fact_school_period.cbql_llct is 'CBQL được bồi dưỡng lý luận chính trị (sheet BoiDuong, key cbql_llct); an empty cell is 0.';
comment on column core.fact_school_period.gv_bo_nhiem_hang is 'GV được bổ nhiệm hạng CDNN trong năm (sheet BoiDuong, key gv_bo_nhiem_hang); an empty cell is 0.';
comment on column core.fact_school_period.gv_bo_nhiem_hang_co_cc is 'Trong đó: có chứng chỉ tiêu chuẩn CDNN trước khi bổ nhiệm (sheet BoiDuong, key gv_bo_nhiem_hang_co_cc); an empty cell is 0.';
comment on column core.fact_school_period.cbql_bo_nhiem is 'CBQL được bổ nhiệm trong năm (sheet BoiDuong, key cbql_bo_nhiem); an empty cell is 0.';
comment on column core.fact_school_period.cbql_bo_nhiem_co_cc is 'Trong đó: có chứng chỉ nghiệp vụ QLGD trước khi bổ nhiệm (sheet BoiDuong, key cbql_bo_nhiem_co_cc); an empty cell is 0.';
comment on column core.fact_training_course.ten_lop is 'Tên lớp (LopBoiDuong, key ten_lop).';
comment on column core.fact_training_course.hinh_thuc is 'Hình thức (LopBoiDuong, key hinh_thuc).';
comment on column core.fact_training_course.so_hoc_vien is 'Số học viên (LopBoiDuong, key so_hoc_vien).';
comment on column core.fact_training_course.so_hoan_thanh is 'Số hoàn thành (LopBoiDuong, key so_hoan_thanh).';
comment on column core.fact_training_course.nguon_kinh_phi is 'Nguồn kinh phí (LopBoiDuong, key nguon_kinh_phi).';
comment on column core.fact_training_course.ma_don_vi is 'District that ran the course.';
comment on column core.fact_training_course.nam_hoc is 'School year.';
comment on column core.fact_training_course.ky_bao_cao is 'Round: HKI or CN.';
comment on column core.fact_training_course.course_number is 'Order of the course in the submitted sheet (1, 2, ...).';
comment on column core.fact_training_course.submission_id is 'Submission the row comes from (dq.submission).';
comment on column core.fact_district_period.ma_don_vi is 'District code.';
comment on column core.fact_district_period.nam_hoc is 'School year.';
comment on column core.fact_district_period.ky_bao_cao is 'Round: HKI or CN.';
comment on column core.fact_district_period.submission_id is 'Submission the row comes from (dq.submission).';
comment on column core.fact_district_period.nguoi_lap is 'Person who filled the report (Người lập biểu).';
comment on column core.fact_district_period.dien_thoai is 'Their phone number.';
comment on column core.fact_district_period.email is 'Their e-mail (alerts also go there).';
comment on column core.fact_district_period.ngay_lap is 'Date the report was made (Ngày lập).';
comment on column core.current_submission.ma_don_vi is 'District code.';
comment on column core.current_submission.nam_hoc is 'School year.';
comment on column core.current_submission.ky_bao_cao is 'Round: HKI or CN.';
comment on column core.current_submission.submission_id is 'The latest accepted submission of the district for the period (dq.submission).';
comment on column core.norm.ma_tinh is 'Province code.';
comment on column core.norm.gv_per_nhom_tre is 'Teachers required per nursery group (norm of thieu_gv, e.g. 2.5).';
comment on column core.norm.gv_per_lop_mau_giao is 'Teachers required per kindergarten class (norm of thieu_gv, e.g. 2.2).';
comment on column core.reporting_period.nam_hoc is 'School year.';
comment on column core.reporting_period.ky_bao_cao is 'Round: HKI or CN.';
comment on column core.reporting_period.deadline is 'Deadline of the period (province configuration).';
comment on column core.round.ky_bao_cao is 'Round code: HKI (mid-year) or CN (end of year).';
comment on column core.round.ten_ky is 'Vietnamese name of the round.';
comment on column core.round.sort_order is 'Order of the rounds within a school year.';
comment on column core.target.indicator is 'Indicator code (core.indicator).';
comment on column dq.issue.issue_id is 'Identifier of the finding.';
comment on column dq.period_lock.lock_id is 'Identifier of the lock event.';
