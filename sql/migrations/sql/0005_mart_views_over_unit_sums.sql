-- The marts become thin views over one wide table of sums per unit and period (mart.unit_sums), so the
-- roll-up costs about one GROUP BY: it no longer writes ~65 long rows per unit, and it can rebuild only
-- the periods that changed. Staging drops its per-row foreign key to dq.submission: staging rows are
-- written in the same transaction as their submission row (etl/ingest.py), the key cost more than the
-- COPY itself on a national night, and tests/etl/test_reconciliation.py checks the link.

alter table staging.thong_tin drop constraint thong_tin_submission_id_fkey;
alter table staging.truong_lop drop constraint truong_lop_submission_id_fkey;
alter table staging.doi_ngu drop constraint doi_ngu_submission_id_fkey;
alter table staging.danh_gia_chuan drop constraint danh_gia_chuan_submission_id_fkey;
alter table staging.boi_duong drop constraint boi_duong_submission_id_fkey;
alter table staging.lop_boi_duong drop constraint lop_boi_duong_submission_id_fkey;

drop view mart.indicator_trend;
drop table mart.district_indicator;
drop table mart.province_indicator;

create table mart.unit_sums (
    unit_type text not null check (unit_type in ('district', 'province')),
    unit_code text not null,
    nam_hoc text not null,
    ky_bao_cao text not null,
    n_districts int not null,
    qualification_floor text not null,
    so_truong bigint not null,
    so_truong_cong_lap bigint not null,
    so_truong_ngoai_cong_lap bigint not null,
    dat_chuan_qg bigint not null,
    thieu_gv numeric not null,
    so_nhom_tre bigint not null,
    so_lop_mau_giao bigint not null,
    so_lop_5_tuoi bigint not null,
    tre_nha_tre bigint not null,
    tre_mau_giao bigint not null,
    tre_5_tuoi bigint not null,
    cbql_tong bigint not null,
    cbql_bien_che bigint not null,
    cbql_dang_vien bigint not null,
    cbql_td_duoi_trung_cap bigint not null,
    cbql_td_trung_cap bigint not null,
    cbql_td_cao_dang bigint not null,
    cbql_td_dai_hoc bigint not null,
    cbql_td_sau_dai_hoc bigint not null,
    gv_tong bigint not null,
    gv_bien_che bigint not null,
    gv_td_duoi_trung_cap bigint not null,
    gv_td_trung_cap bigint not null,
    gv_td_cao_dang bigint not null,
    gv_td_dai_hoc bigint not null,
    gv_td_sau_dai_hoc bigint not null,
    gv_hang_1 bigint not null,
    gv_hang_2 bigint not null,
    gv_hang_3 bigint not null,
    gv_hang_4 bigint not null,
    gv_chua_xep_hang bigint not null,
    nv_tong bigint not null,
    gv_nghi_huu bigint not null,
    gv_tuyen_moi bigint not null,
    gv_duoc_danh_gia bigint not null,
    gv_tot bigint not null,
    gv_kha bigint not null,
    gv_dat bigint not null,
    gv_chua_dat bigint not null,
    cbql_duoc_danh_gia bigint not null,
    cbql_tot bigint not null,
    cbql_kha bigint not null,
    cbql_dat bigint not null,
    cbql_chua_dat bigint not null,
    gv_cot_can bigint not null,
    cbql_cot_can bigint not null,
    cot_can_bd_ho_tro bigint not null,
    gv_bd_theo_chuan bigint not null,
    cbql_bd_theo_chuan bigint not null,
    gv_hoan_thanh_bdtx bigint not null,
    cbql_hoan_thanh_bdtx bigint not null,
    gv_tin_hoc bigint not null,
    cbql_tin_hoc bigint not null,
    gv_ngoai_ngu bigint not null,
    cbql_ngoai_ngu bigint not null,
    gv_llct bigint not null,
    cbql_llct bigint not null,
    gv_bo_nhiem_hang bigint not null,
    gv_bo_nhiem_hang_co_cc bigint not null,
    cbql_bo_nhiem bigint not null,
    cbql_bo_nhiem_co_cc bigint not null,
    dan_so_0_2 bigint,
    dan_so_3_5 bigint,
    dan_so_5 bigint,
    lop_bd bigint not null,
    lop_bd_chinh_tri bigint not null,
    lop_bd_chuyen_mon bigint not null,
    lop_bd_truc_tuyen bigint not null,
    hoc_vien_bd bigint not null,
    hoc_vien_bd_chinh_tri bigint not null,
    hoc_vien_bd_chuyen_mon bigint not null,
    hoc_vien_bd_truc_tuyen bigint not null,
    kinh_phi_bd numeric not null,
    primary key (unit_type, unit_code, nam_hoc, ky_bao_cao)
);
comment on table mart.unit_sums is 'One row per unit (district, or the province) and period (grain: unit x nam_hoc x ky_bao_cao): the sums of every template count over the unit''s schools of the current accepted submissions, the populations and the training courses. The indicator views are ratios of these sums. Rebuilt by tonghop rollup (only the periods that changed, at night).';
comment on column mart.unit_sums.unit_type is 'district or province.';
comment on column mart.unit_sums.unit_code is 'ma_don_vi for a district, ma_tinh for the province.';
comment on column mart.unit_sums.nam_hoc is 'School year.';
comment on column mart.unit_sums.ky_bao_cao is 'Round: HKI or CN.';
comment on column mart.unit_sums.n_districts is 'Districts with a current accepted submission in the unit and period.';
comment on column mart.unit_sums.qualification_floor is 'Qualification standard in force that school year (core.school_year).';
comment on column mart.unit_sums.so_truong is 'Schools reported.';
comment on column mart.unit_sums.so_truong_cong_lap is 'Public schools reported.';
comment on column mart.unit_sums.so_truong_ngoai_cong_lap is 'Private (tu_thuc, dan_lap) schools reported.';
comment on column mart.unit_sums.dat_chuan_qg is 'Schools meeting the national standard.';
comment on column mart.unit_sums.thieu_gv is 'Teachers missing by the norm, computed per school then summed.';
comment on column mart.unit_sums.so_nhom_tre is 'Sum of so_nhom_tre over the unit''s schools.';
comment on column mart.unit_sums.so_lop_mau_giao is 'Sum of so_lop_mau_giao over the unit''s schools.';
comment on column mart.unit_sums.so_lop_5_tuoi is 'Sum of so_lop_5_tuoi over the unit''s schools.';
comment on column mart.unit_sums.tre_nha_tre is 'Sum of tre_nha_tre over the unit''s schools.';
comment on column mart.unit_sums.tre_mau_giao is 'Sum of tre_mau_giao over the unit''s schools.';
comment on column mart.unit_sums.tre_5_tuoi is 'Sum of tre_5_tuoi over the unit''s schools.';
comment on column mart.unit_sums.cbql_tong is 'Sum of cbql_tong over the unit''s schools.';
comment on column mart.unit_sums.cbql_bien_che is 'Sum of cbql_bien_che over the unit''s schools.';
comment on column mart.unit_sums.cbql_dang_vien is 'Sum of cbql_dang_vien over the unit''s schools.';
comment on column mart.unit_sums.cbql_td_duoi_trung_cap is 'Sum of cbql_td_duoi_trung_cap over the unit''s schools.';
comment on column mart.unit_sums.cbql_td_trung_cap is 'Sum of cbql_td_trung_cap over the unit''s schools.';
comment on column mart.unit_sums.cbql_td_cao_dang is 'Sum of cbql_td_cao_dang over the unit''s schools.';
comment on column mart.unit_sums.cbql_td_dai_hoc is 'Sum of cbql_td_dai_hoc over the unit''s schools.';
comment on column mart.unit_sums.cbql_td_sau_dai_hoc is 'Sum of cbql_td_sau_dai_hoc over the unit''s schools.';
comment on column mart.unit_sums.gv_tong is 'Sum of gv_tong over the unit''s schools.';
comment on column mart.unit_sums.gv_bien_che is 'Sum of gv_bien_che over the unit''s schools.';
comment on column mart.unit_sums.gv_td_duoi_trung_cap is 'Sum of gv_td_duoi_trung_cap over the unit''s schools.';
comment on column mart.unit_sums.gv_td_trung_cap is 'Sum of gv_td_trung_cap over the unit''s schools.';
comment on column mart.unit_sums.gv_td_cao_dang is 'Sum of gv_td_cao_dang over the unit''s schools.';
comment on column mart.unit_sums.gv_td_dai_hoc is 'Sum of gv_td_dai_hoc over the unit''s schools.';
comment on column mart.unit_sums.gv_td_sau_dai_hoc is 'Sum of gv_td_sau_dai_hoc over the unit''s schools.';
comment on column mart.unit_sums.gv_hang_1 is 'Sum of gv_hang_1 over the unit''s schools.';
comment on column mart.unit_sums.gv_hang_2 is 'Sum of gv_hang_2 over the unit''s schools.';
comment on column mart.unit_sums.gv_hang_3 is 'Sum of gv_hang_3 over the unit''s schools.';
comment on column mart.unit_sums.gv_hang_4 is 'Sum of gv_hang_4 over the unit''s schools.';
comment on column mart.unit_sums.gv_chua_xep_hang is 'Sum of gv_chua_xep_hang over the unit''s schools.';
comment on column mart.unit_sums.nv_tong is 'Sum of nv_tong over the unit''s schools.';
comment on column mart.unit_sums.gv_nghi_huu is 'Sum of gv_nghi_huu over the unit''s schools.';
comment on column mart.unit_sums.gv_tuyen_moi is 'Sum of gv_tuyen_moi over the unit''s schools.';
comment on column mart.unit_sums.gv_duoc_danh_gia is 'Sum of gv_duoc_danh_gia over the unit''s schools.';
comment on column mart.unit_sums.gv_tot is 'Sum of gv_tot over the unit''s schools.';
comment on column mart.unit_sums.gv_kha is 'Sum of gv_kha over the unit''s schools.';
comment on column mart.unit_sums.gv_dat is 'Sum of gv_dat over the unit''s schools.';
comment on column mart.unit_sums.gv_chua_dat is 'Sum of gv_chua_dat over the unit''s schools.';
comment on column mart.unit_sums.cbql_duoc_danh_gia is 'Sum of cbql_duoc_danh_gia over the unit''s schools.';
comment on column mart.unit_sums.cbql_tot is 'Sum of cbql_tot over the unit''s schools.';
comment on column mart.unit_sums.cbql_kha is 'Sum of cbql_kha over the unit''s schools.';
comment on column mart.unit_sums.cbql_dat is 'Sum of cbql_dat over the unit''s schools.';
comment on column mart.unit_sums.cbql_chua_dat is 'Sum of cbql_chua_dat over the unit''s schools.';
comment on column mart.unit_sums.gv_cot_can is 'Sum of gv_cot_can over the unit''s schools.';
comment on column mart.unit_sums.cbql_cot_can is 'Sum of cbql_cot_can over the unit''s schools.';
comment on column mart.unit_sums.cot_can_bd_ho_tro is 'Sum of cot_can_bd_ho_tro over the unit''s schools.';
comment on column mart.unit_sums.gv_bd_theo_chuan is 'Sum of gv_bd_theo_chuan over the unit''s schools.';
comment on column mart.unit_sums.cbql_bd_theo_chuan is 'Sum of cbql_bd_theo_chuan over the unit''s schools.';
comment on column mart.unit_sums.gv_hoan_thanh_bdtx is 'Sum of gv_hoan_thanh_bdtx over the unit''s schools.';
comment on column mart.unit_sums.cbql_hoan_thanh_bdtx is 'Sum of cbql_hoan_thanh_bdtx over the unit''s schools.';
comment on column mart.unit_sums.gv_tin_hoc is 'Sum of gv_tin_hoc over the unit''s schools.';
comment on column mart.unit_sums.cbql_tin_hoc is 'Sum of cbql_tin_hoc over the unit''s schools.';
comment on column mart.unit_sums.gv_ngoai_ngu is 'Sum of gv_ngoai_ngu over the unit''s schools.';
comment on column mart.unit_sums.cbql_ngoai_ngu is 'Sum of cbql_ngoai_ngu over the unit''s schools.';
comment on column mart.unit_sums.gv_llct is 'Sum of gv_llct over the unit''s schools.';
comment on column mart.unit_sums.cbql_llct is 'Sum of cbql_llct over the unit''s schools.';
comment on column mart.unit_sums.gv_bo_nhiem_hang is 'Sum of gv_bo_nhiem_hang over the unit''s schools.';
comment on column mart.unit_sums.gv_bo_nhiem_hang_co_cc is 'Sum of gv_bo_nhiem_hang_co_cc over the unit''s schools.';
comment on column mart.unit_sums.cbql_bo_nhiem is 'Sum of cbql_bo_nhiem over the unit''s schools.';
comment on column mart.unit_sums.cbql_bo_nhiem_co_cc is 'Sum of cbql_bo_nhiem_co_cc over the unit''s schools.';
comment on column mart.unit_sums.dan_so_0_2 is 'Sum of the districts'' dan_so_0_2 (ThongTin).';
comment on column mart.unit_sums.dan_so_3_5 is 'Sum of the districts'' dan_so_3_5 (ThongTin).';
comment on column mart.unit_sums.dan_so_5 is 'Sum of the districts'' dan_so_5 (ThongTin).';
comment on column mart.unit_sums.lop_bd is 'Training courses (LopBoiDuong): indicator lop_bd.';
comment on column mart.unit_sums.lop_bd_chinh_tri is 'Training courses (LopBoiDuong): indicator lop_bd_chinh_tri.';
comment on column mart.unit_sums.lop_bd_chuyen_mon is 'Training courses (LopBoiDuong): indicator lop_bd_chuyen_mon.';
comment on column mart.unit_sums.lop_bd_truc_tuyen is 'Training courses (LopBoiDuong): indicator lop_bd_truc_tuyen.';
comment on column mart.unit_sums.hoc_vien_bd is 'Training courses (LopBoiDuong): indicator hoc_vien_bd.';
comment on column mart.unit_sums.hoc_vien_bd_chinh_tri is 'Training courses (LopBoiDuong): indicator hoc_vien_bd_chinh_tri.';
comment on column mart.unit_sums.hoc_vien_bd_chuyen_mon is 'Training courses (LopBoiDuong): indicator hoc_vien_bd_chuyen_mon.';
comment on column mart.unit_sums.hoc_vien_bd_truc_tuyen is 'Training courses (LopBoiDuong): indicator hoc_vien_bd_truc_tuyen.';
comment on column mart.unit_sums.kinh_phi_bd is 'Training courses (LopBoiDuong): indicator kinh_phi_bd.';

create table mart.unit_target (
    unit_type text not null,
    unit_code text not null,
    nam_hoc text not null,
    indicator text not null,
    target numeric not null,
    target_nam_hoc text not null,
    primary key (unit_type, unit_code, nam_hoc, indicator)
);
comment on table mart.unit_target is 'One row per unit, school year and indicator with a target (grain: unit x nam_hoc x indicator): the target of the plan phase covering that year, i.e. the earliest target of the unit due in or after it. Rebuilt by tonghop rollup.';
comment on column mart.unit_target.unit_type is 'district or province.';
comment on column mart.unit_target.unit_code is 'ma_don_vi or ma_tinh.';
comment on column mart.unit_target.nam_hoc is 'School year the target applies to.';
comment on column mart.unit_target.indicator is 'Indicator code.';
comment on column mart.unit_target.target is 'Target value.';
comment on column mart.unit_target.target_nam_hoc is 'School year the target is due.';

create view mart.unit_indicator as
select
    u.unit_type,
    u.unit_code,
    u.nam_hoc,
    u.ky_bao_cao,
    u.n_districts,
    term.indicator,
    term.numerator,
    term.denominator,
    case indicator.unit
        when 'percent' then 100 * term.numerator / nullif(term.denominator, 0)
        when 'ratio' then term.numerator / nullif(term.denominator, 0)
        else term.numerator
    end as value,
    unit_target.target,
    unit_target.target_nam_hoc,
    term.definition,
    indicator.higher_is_better
from mart.unit_sums as u
    cross join lateral (
        select
            u.qualification_floor = 'cao_dang' as from_2020,
            u.gv_td_cao_dang + u.gv_td_dai_hoc + u.gv_td_sau_dai_hoc as gv_cd,
            u.gv_td_dai_hoc + u.gv_td_sau_dai_hoc as gv_dh,
            u.gv_td_trung_cap + u.gv_td_cao_dang + u.gv_td_dai_hoc + u.gv_td_sau_dai_hoc as gv_tc,
            u.cbql_td_cao_dang + u.cbql_td_dai_hoc + u.cbql_td_sau_dai_hoc as cbql_cd,
            u.cbql_td_dai_hoc + u.cbql_td_sau_dai_hoc as cbql_dh,
            u.cbql_td_trung_cap + u.cbql_td_cao_dang + u.cbql_td_dai_hoc + u.cbql_td_sau_dai_hoc as cbql_tc
    ) as q
    cross join lateral (values
        ('so_truong', u.so_truong::numeric, null::numeric, null::text),
        ('so_truong_cong_lap', u.so_truong_cong_lap, null, null),
        ('so_truong_ngoai_cong_lap', u.so_truong_ngoai_cong_lap, null, null),
        ('so_nhom_lop', u.so_nhom_tre + u.so_lop_mau_giao, null, null),
        ('so_nhom_tre', u.so_nhom_tre, null, null),
        ('so_lop_mau_giao', u.so_lop_mau_giao, null, null),
        ('tong_tre', u.tre_nha_tre + u.tre_mau_giao, null, null),
        ('tre_nha_tre', u.tre_nha_tre, null, null),
        ('tre_mau_giao', u.tre_mau_giao, null, null),
        ('tre_5_tuoi', u.tre_5_tuoi, null, null),
        ('cbql_tong', u.cbql_tong, null, null),
        ('gv_tong', u.gv_tong, null, null),
        ('nv_tong', u.nv_tong, null, null),
        ('huy_dong_nha_tre', u.tre_nha_tre, u.dan_so_0_2, null),
        ('huy_dong_mau_giao', u.tre_mau_giao, u.dan_so_3_5, null),
        ('huy_dong_5_tuoi', u.tre_5_tuoi, u.dan_so_5, null),
        ('truong_dat_chuan_qg', u.dat_chuan_qg, u.so_truong, null),
        ('gv_tren_lop', u.gv_tong, u.so_nhom_tre + u.so_lop_mau_giao, null),
        ('thieu_gv', u.thieu_gv, null, null),
        ('gv_thay_the', u.gv_tuyen_moi, u.gv_nghi_huu, null),
        ('gv_cd_tro_len', q.gv_cd, u.gv_tong, null),
        ('cbql_gv_cd_tro_len', q.gv_cd + q.cbql_cd, u.cbql_tong + u.gv_tong, null),
        ('gv_dat_chuan_td', case when q.from_2020 then q.gv_cd else q.gv_tc end, u.gv_tong,
            case when q.from_2020 then 'cao_dang_tro_len' else 'trung_cap_tro_len' end),
        ('gv_tren_chuan_td', case when q.from_2020 then q.gv_dh else q.gv_cd end, u.gv_tong,
            case when q.from_2020 then 'dai_hoc_tro_len' else 'cao_dang_tro_len' end),
        ('cbql_dat_chuan_td', case when q.from_2020 then q.cbql_cd else q.cbql_tc end, u.cbql_tong,
            case when q.from_2020 then 'cao_dang_tro_len' else 'trung_cap_tro_len' end),
        ('cbql_tren_chuan_td', case when q.from_2020 then q.cbql_dh else q.cbql_cd end, u.cbql_tong,
            case when q.from_2020 then 'dai_hoc_tro_len' else 'cao_dang_tro_len' end),
        ('cbql_gv_dat_chuan_td', case when q.from_2020 then q.gv_cd + q.cbql_cd else q.gv_tc + q.cbql_tc end,
            u.cbql_tong + u.gv_tong, case when q.from_2020 then 'cao_dang_tro_len' else 'trung_cap_tro_len' end),
        ('cbql_gv_tren_chuan_td', case when q.from_2020 then q.gv_dh + q.cbql_dh else q.gv_cd + q.cbql_cd end,
            u.cbql_tong + u.gv_tong, case when q.from_2020 then 'dai_hoc_tro_len' else 'cao_dang_tro_len' end),
        ('gv_danh_gia', u.gv_duoc_danh_gia, u.gv_tong, null),
        ('gv_tot', u.gv_tot, u.gv_duoc_danh_gia, null),
        ('gv_kha', u.gv_kha, u.gv_duoc_danh_gia, null),
        ('gv_dat', u.gv_dat, u.gv_duoc_danh_gia, null),
        ('gv_chua_dat', u.gv_chua_dat, u.gv_duoc_danh_gia, null),
        ('gv_kha_tro_len', u.gv_tot + u.gv_kha, u.gv_duoc_danh_gia, null),
        ('cbql_danh_gia', u.cbql_duoc_danh_gia, u.cbql_tong, null),
        ('cbql_tot', u.cbql_tot, u.cbql_duoc_danh_gia, null),
        ('cbql_kha', u.cbql_kha, u.cbql_duoc_danh_gia, null),
        ('cbql_dat', u.cbql_dat, u.cbql_duoc_danh_gia, null),
        ('cbql_chua_dat', u.cbql_chua_dat, u.cbql_duoc_danh_gia, null),
        ('cbql_kha_tro_len', u.cbql_tot + u.cbql_kha, u.cbql_duoc_danh_gia, null),
        ('cbql_gv_kha_tro_len', u.gv_tot + u.gv_kha + u.cbql_tot + u.cbql_kha,
            u.gv_duoc_danh_gia + u.cbql_duoc_danh_gia, null),
        ('cot_can_bd_ho_tro', u.cot_can_bd_ho_tro, u.gv_cot_can + u.cbql_cot_can, null),
        ('bd_theo_chuan', u.gv_bd_theo_chuan + u.cbql_bd_theo_chuan, u.gv_tong + u.cbql_tong, null),
        ('hoan_thanh_bdtx', u.gv_hoan_thanh_bdtx + u.cbql_hoan_thanh_bdtx, u.gv_tong + u.cbql_tong, null),
        ('tin_hoc', u.gv_tin_hoc + u.cbql_tin_hoc, u.gv_tong + u.cbql_tong, null),
        ('ngoai_ngu', u.gv_ngoai_ngu + u.cbql_ngoai_ngu, u.gv_tong + u.cbql_tong, null),
        ('llct', u.gv_llct + u.cbql_llct, u.gv_tong + u.cbql_tong, null),
        ('cc_cdnn_truoc_bo_nhiem', u.gv_bo_nhiem_hang_co_cc, u.gv_bo_nhiem_hang, null),
        ('cc_qlgd_truoc_bo_nhiem', u.cbql_bo_nhiem_co_cc, u.cbql_bo_nhiem, null),
        ('cbql_dang_vien', u.cbql_dang_vien, u.cbql_tong, null),
        ('bien_che', u.gv_bien_che + u.cbql_bien_che, u.gv_tong + u.cbql_tong, null),
        ('gv_hang_1', u.gv_hang_1, u.gv_tong, null),
        ('gv_hang_2', u.gv_hang_2, u.gv_tong, null),
        ('gv_hang_3', u.gv_hang_3, u.gv_tong, null),
        ('gv_hang_4', u.gv_hang_4, u.gv_tong, null),
        ('gv_chua_xep_hang', u.gv_chua_xep_hang, u.gv_tong, null),
        ('lop_bd', u.lop_bd, null, null),
        ('lop_bd_chinh_tri', u.lop_bd_chinh_tri, null, null),
        ('lop_bd_chuyen_mon', u.lop_bd_chuyen_mon, null, null),
        ('lop_bd_truc_tuyen', u.lop_bd_truc_tuyen, null, null),
        ('hoc_vien_bd', u.hoc_vien_bd, null, null),
        ('hoc_vien_bd_chinh_tri', u.hoc_vien_bd_chinh_tri, null, null),
        ('hoc_vien_bd_chuyen_mon', u.hoc_vien_bd_chuyen_mon, null, null),
        ('hoc_vien_bd_truc_tuyen', u.hoc_vien_bd_truc_tuyen, null, null),
        ('kinh_phi_bd', u.kinh_phi_bd, null, null)
    ) as term (indicator, numerator, denominator, definition)
join core.indicator as indicator on indicator.indicator = term.indicator
left join mart.unit_target as unit_target
    on unit_target.unit_type = u.unit_type
   and unit_target.unit_code = u.unit_code
   and unit_target.nam_hoc = u.nam_hoc
   and unit_target.indicator = term.indicator;
comment on view mart.unit_indicator is 'One row per unit, period and indicator (grain: unit x nam_hoc x ky_bao_cao x indicator): the ratios of mart.unit_sums; the district and province views select from it. "Standard in force": *_dat_chuan_td and *_tren_chuan_td follow the qualification floor of the school year.';

comment on column mart.unit_indicator.unit_type is 'district or province.';
comment on column mart.unit_indicator.unit_code is 'ma_don_vi or ma_tinh.';
comment on column mart.unit_indicator.nam_hoc is 'School year.';
comment on column mart.unit_indicator.ky_bao_cao is 'Round: HKI or CN.';
comment on column mart.unit_indicator.n_districts is 'Districts with a current accepted submission.';
comment on column mart.unit_indicator.indicator is 'Indicator code (core.indicator).';
comment on column mart.unit_indicator.numerator is 'Sum of the numerator over the unit.';
comment on column mart.unit_indicator.denominator is 'Sum of the denominator; NULL for counts.';
comment on column mart.unit_indicator.value is 'Percentage 0..100 for % indicators, the ratio or count otherwise, unrounded; NULL when the denominator is 0.';
comment on column mart.unit_indicator.target is 'Target of the plan phase covering the school year; NULL when none.';
comment on column mart.unit_indicator.target_nam_hoc is 'School year the target is due.';
comment on column mart.unit_indicator.definition is 'For *_chuan_td indicators: which qualification standard the value used.';
comment on column mart.unit_indicator.higher_is_better is 'true: met when value >= target; false (thieu_gv): when value <= target.';

create view mart.district_indicator as
select
    unit_indicator.unit_code as ma_don_vi,
    unit_indicator.nam_hoc,
    unit_indicator.ky_bao_cao,
    unit_indicator.indicator,
    unit_indicator.numerator,
    unit_indicator.denominator,
    unit_indicator.value,
    unit_indicator.target,
    unit_indicator.target_nam_hoc,
    case when unit_indicator.higher_is_better is false then unit_indicator.value <= unit_indicator.target
         else unit_indicator.value >= unit_indicator.target end as met,
    unit_indicator.definition
from mart.unit_indicator
where unit_indicator.unit_type = 'district';

create view mart.province_indicator as
select
    unit_indicator.nam_hoc,
    unit_indicator.ky_bao_cao,
    unit_indicator.indicator,
    unit_indicator.numerator,
    unit_indicator.denominator,
    unit_indicator.value,
    unit_indicator.target,
    unit_indicator.target_nam_hoc,
    case when unit_indicator.higher_is_better is false then unit_indicator.value <= unit_indicator.target
         else unit_indicator.value >= unit_indicator.target end as met,
    unit_indicator.definition,
    unit_indicator.n_districts
from mart.unit_indicator
where unit_indicator.unit_type = 'province';
comment on view mart.district_indicator is 'One row per district, school year, round and indicator (grain: district x period x indicator): ratio of the sums over the district''s schools, against the district''s own target if it has one. A view over mart.unit_sums.';
comment on column mart.district_indicator.ma_don_vi is 'District code.';
comment on column mart.district_indicator.nam_hoc is 'School year, e.g. 2019-2020.';
comment on column mart.district_indicator.ky_bao_cao is 'Round: HKI or CN.';
comment on column mart.district_indicator.indicator is 'Indicator code (core.indicator, spec/indicators.md).';
comment on column mart.district_indicator.numerator is 'Sum of the numerator over the unit.';
comment on column mart.district_indicator.denominator is 'Sum of the denominator; NULL for counts.';
comment on column mart.district_indicator.value is 'Percentage 0..100 for % indicators, the ratio or count otherwise, unrounded; NULL when the denominator is 0.';
comment on column mart.district_indicator.target is 'Target of the plan phase covering this school year; NULL when the unit has none.';
comment on column mart.district_indicator.target_nam_hoc is 'School year the target is due.';
comment on column mart.district_indicator.met is 'value >= target (<= for thieu_gv); NULL when there is no target or no value.';
comment on column mart.district_indicator.definition is 'For *_chuan_td indicators: which qualification standard the value used (trung_cap_tro_len, cao_dang_tro_len, dai_hoc_tro_len).';
comment on view mart.province_indicator is 'One row per school year, round and indicator for the province (grain: period x indicator): the ratio of the districts'' summed numerators and denominators, never an average of district percentages. A view over mart.unit_sums.';
comment on column mart.province_indicator.nam_hoc is 'School year, e.g. 2019-2020.';
comment on column mart.province_indicator.ky_bao_cao is 'Round: HKI or CN.';
comment on column mart.province_indicator.indicator is 'Indicator code (core.indicator, spec/indicators.md).';
comment on column mart.province_indicator.numerator is 'Sum of the numerator over the province''s reporting districts.';
comment on column mart.province_indicator.denominator is 'Sum of the denominator; NULL for counts.';
comment on column mart.province_indicator.value is 'Percentage 0..100 for % indicators, the ratio or count otherwise, unrounded; NULL when the denominator is 0.';
comment on column mart.province_indicator.target is 'Province target of the plan phase covering this school year; NULL when none.';
comment on column mart.province_indicator.target_nam_hoc is 'School year the target is due.';
comment on column mart.province_indicator.met is 'value >= target (<= for thieu_gv); NULL when there is no target or no value.';
comment on column mart.province_indicator.definition is 'For *_chuan_td indicators: which qualification standard the value used.';
comment on column mart.province_indicator.n_districts is 'Number of districts with a current accepted submission in the period.';

create view mart.indicator_trend as
with unit_value as (
    select 'province' as unit_type, province.ma_tinh as unit_code, pi.nam_hoc, pi.indicator, pi.value,
           pi.target, pi.target_nam_hoc, pi.met, pi.definition
    from mart.province_indicator as pi
    cross join core.province as province
    where pi.ky_bao_cao = 'CN'
    union all
    select 'district', di.ma_don_vi, di.nam_hoc, di.indicator, di.value,
           di.target, di.target_nam_hoc, di.met, di.definition
    from mart.district_indicator as di
    where di.ky_bao_cao = 'CN'
)
select
    unit_value.unit_type,
    unit_value.unit_code,
    unit_value.indicator,
    indicator.label_vi,
    indicator.unit,
    unit_value.nam_hoc,
    unit_value.value,
    unit_value.value - lag(unit_value.value) over unit_series as change_from_previous_year,
    unit_value.target,
    unit_value.target_nam_hoc,
    unit_value.met,
    unit_value.definition,
    coalesce(unit_value.definition is distinct from lag(unit_value.definition) over unit_series
             and lag(unit_value.nam_hoc) over unit_series is not null, false) as definition_changed
from unit_value
join core.indicator using (indicator)
window unit_series as (partition by unit_value.unit_type, unit_value.unit_code, unit_value.indicator
                       order by unit_value.nam_hoc);
comment on view mart.indicator_trend is 'One row per unit (province or district), indicator and school year, end-of-year (CN) values only (grain: unit x indicator x nam_hoc): the long format for phase reports and trends. definition_changed marks the year the qualification standard switched.';
comment on column mart.indicator_trend.unit_type is 'province or district.';
comment on column mart.indicator_trend.unit_code is 'ma_tinh or ma_don_vi.';
comment on column mart.indicator_trend.indicator is 'Indicator code.';
comment on column mart.indicator_trend.label_vi is 'Vietnamese label.';
comment on column mart.indicator_trend.unit is 'percent, ratio or count.';
comment on column mart.indicator_trend.nam_hoc is 'School year.';
comment on column mart.indicator_trend.value is 'CN value of that school year.';
comment on column mart.indicator_trend.change_from_previous_year is 'value minus the previous school year''s value (percentage points for %).';
comment on column mart.indicator_trend.target is 'Target of the phase covering the year.';
comment on column mart.indicator_trend.target_nam_hoc is 'School year the target is due.';
comment on column mart.indicator_trend.met is 'Whether the value meets the target.';
comment on column mart.indicator_trend.definition is 'Qualification standard used (for *_chuan_td).';
comment on column mart.indicator_trend.definition_changed is 'true in the first year of a new definition: the series is not comparable across it.';

grant select on all tables in schema mart to analyst;

-- The roll-up computes thieu_gv in exact integer thousandths of a teacher.
alter table core.norm add constraint norm_in_thousandths check (
    gv_per_nhom_tre = round(gv_per_nhom_tre, 3) and gv_per_lop_mau_giao = round(gv_per_lop_mau_giao, 3));
