-- Roll-up into mart.district_sums, inside the caller's transaction (etl/rollup.py), for the periods
-- (nam_hoc, ky_bao_cao) listed in the temporary table rollup_period, or for every period when it lists none
-- (a full rebuild reads the facts unfiltered: filtering them by every period cost a hash join of each fact
-- row, a quarter of the national roll-up). One GROUP BY over the current facts gives the district rows.
-- The province rows are not written: the view mart.unit_sums sums them from these district rows when read
-- (the ratio of the summed numerators and denominators, never an average of district percentages;
-- migration 0009). mart.district_indicator and mart.province_indicator are views over mart.unit_sums.

-- Enough memory to aggregate the facts by hashing instead of sorting 200k wide rows (national scale).
set local work_mem = '64MB';
delete from mart.district_sums as d
where not exists (select from rollup_period)
   or (d.nam_hoc, d.ky_bao_cao) in (select nam_hoc, ky_bao_cao from rollup_period);

insert into mart.district_sums (
    ma_don_vi, nam_hoc, ky_bao_cao, qualification_floor, so_truong, so_truong_cong_lap,
    so_truong_ngoai_cong_lap, dat_chuan_qg, thieu_gv, so_nhom_tre, so_lop_mau_giao, so_lop_5_tuoi, tre_nha_tre,
    tre_mau_giao, tre_5_tuoi, cbql_tong, cbql_bien_che, cbql_dang_vien, cbql_td_duoi_trung_cap,
    cbql_td_trung_cap, cbql_td_cao_dang, cbql_td_dai_hoc, cbql_td_sau_dai_hoc, gv_tong, gv_bien_che,
    gv_td_duoi_trung_cap, gv_td_trung_cap, gv_td_cao_dang, gv_td_dai_hoc, gv_td_sau_dai_hoc, gv_hang_1,
    gv_hang_2, gv_hang_3, gv_hang_4, gv_chua_xep_hang, nv_tong, gv_nghi_huu, gv_tuyen_moi, gv_duoc_danh_gia,
    gv_tot, gv_kha, gv_dat, gv_chua_dat, cbql_duoc_danh_gia, cbql_tot, cbql_kha, cbql_dat, cbql_chua_dat,
    gv_cot_can, cbql_cot_can, cot_can_bd_ho_tro, gv_bd_theo_chuan, cbql_bd_theo_chuan, gv_hoan_thanh_bdtx,
    cbql_hoan_thanh_bdtx, gv_tin_hoc, cbql_tin_hoc, gv_ngoai_ngu, cbql_ngoai_ngu, gv_llct, cbql_llct,
    gv_bo_nhiem_hang, gv_bo_nhiem_hang_co_cc, cbql_bo_nhiem, cbql_bo_nhiem_co_cc, dan_so_0_2, dan_so_3_5,
    dan_so_5, lop_bd, lop_bd_chinh_tri, lop_bd_chuyen_mon, lop_bd_truc_tuyen, hoc_vien_bd,
    hoc_vien_bd_chinh_tri, hoc_vien_bd_chuyen_mon, hoc_vien_bd_truc_tuyen, kinh_phi_bd
)
with

school_sums as (
    select
        school.ma_don_vi,
        school.nam_hoc,
        school.ky_bao_cao,
        count(*) as so_truong,
        count(*) filter (where school.loai_hinh = 'cong_lap') as so_truong_cong_lap,
        sum(school.dat_chuan_qg) as dat_chuan_qg,
        -- thieu_gv per school, then summed: one school's surplus does not fill another's gap. The norm (one
        -- row, loaded with the configuration) is exact in thousandths (core.norm allows at most three
        -- decimals), so this is an integer ceiling division, much cheaper than numeric arithmetic on every
        -- fact row; read once per statement (a joined norm costs a join step per fact row).
        sum(greatest(0, ((select (gv_per_nhom_tre * 1000)::bigint from core.norm) * school.so_nhom_tre
                         + (select (gv_per_lop_mau_giao * 1000)::bigint from core.norm) * school.so_lop_mau_giao
                         + 999) / 1000 - school.gv_tong)) as thieu_gv,
        sum(school.so_nhom_tre) as so_nhom_tre, sum(school.so_lop_mau_giao) as so_lop_mau_giao, sum(school.so_lop_5_tuoi) as so_lop_5_tuoi,
        sum(school.tre_nha_tre) as tre_nha_tre, sum(school.tre_mau_giao) as tre_mau_giao, sum(school.tre_5_tuoi) as tre_5_tuoi,
        sum(school.cbql_tong) as cbql_tong, sum(school.cbql_bien_che) as cbql_bien_che, sum(school.cbql_dang_vien) as cbql_dang_vien,
        sum(school.cbql_td_duoi_trung_cap) as cbql_td_duoi_trung_cap, sum(school.cbql_td_trung_cap) as cbql_td_trung_cap, sum(school.cbql_td_cao_dang) as cbql_td_cao_dang,
        sum(school.cbql_td_dai_hoc) as cbql_td_dai_hoc, sum(school.cbql_td_sau_dai_hoc) as cbql_td_sau_dai_hoc, sum(school.gv_tong) as gv_tong,
        sum(school.gv_bien_che) as gv_bien_che, sum(school.gv_td_duoi_trung_cap) as gv_td_duoi_trung_cap, sum(school.gv_td_trung_cap) as gv_td_trung_cap,
        sum(school.gv_td_cao_dang) as gv_td_cao_dang, sum(school.gv_td_dai_hoc) as gv_td_dai_hoc, sum(school.gv_td_sau_dai_hoc) as gv_td_sau_dai_hoc,
        sum(school.gv_hang_1) as gv_hang_1, sum(school.gv_hang_2) as gv_hang_2, sum(school.gv_hang_3) as gv_hang_3,
        sum(school.gv_hang_4) as gv_hang_4, sum(school.gv_chua_xep_hang) as gv_chua_xep_hang, sum(school.nv_tong) as nv_tong,
        sum(school.gv_nghi_huu) as gv_nghi_huu, sum(school.gv_tuyen_moi) as gv_tuyen_moi, sum(school.gv_duoc_danh_gia) as gv_duoc_danh_gia,
        sum(school.gv_tot) as gv_tot, sum(school.gv_kha) as gv_kha, sum(school.gv_dat) as gv_dat,
        sum(school.gv_chua_dat) as gv_chua_dat, sum(school.cbql_duoc_danh_gia) as cbql_duoc_danh_gia, sum(school.cbql_tot) as cbql_tot,
        sum(school.cbql_kha) as cbql_kha, sum(school.cbql_dat) as cbql_dat, sum(school.cbql_chua_dat) as cbql_chua_dat,
        sum(school.gv_cot_can) as gv_cot_can, sum(school.cbql_cot_can) as cbql_cot_can, sum(school.cot_can_bd_ho_tro) as cot_can_bd_ho_tro,
        sum(school.gv_bd_theo_chuan) as gv_bd_theo_chuan, sum(school.cbql_bd_theo_chuan) as cbql_bd_theo_chuan, sum(school.gv_hoan_thanh_bdtx) as gv_hoan_thanh_bdtx,
        sum(school.cbql_hoan_thanh_bdtx) as cbql_hoan_thanh_bdtx, sum(school.gv_tin_hoc) as gv_tin_hoc, sum(school.cbql_tin_hoc) as cbql_tin_hoc,
        sum(school.gv_ngoai_ngu) as gv_ngoai_ngu, sum(school.cbql_ngoai_ngu) as cbql_ngoai_ngu, sum(school.gv_llct) as gv_llct,
        sum(school.cbql_llct) as cbql_llct, sum(school.gv_bo_nhiem_hang) as gv_bo_nhiem_hang, sum(school.gv_bo_nhiem_hang_co_cc) as gv_bo_nhiem_hang_co_cc,
        sum(school.cbql_bo_nhiem) as cbql_bo_nhiem, sum(school.cbql_bo_nhiem_co_cc) as cbql_bo_nhiem_co_cc
    from core.fact_school_period as school
    where not exists (select from rollup_period)
       or (school.nam_hoc, school.ky_bao_cao) in (select nam_hoc, ky_bao_cao from rollup_period)
    group by school.ma_don_vi, school.nam_hoc, school.ky_bao_cao
),

course_sums as (
    select
        course.ma_don_vi,
        course.nam_hoc,
        course.ky_bao_cao,
        count(*) as lop_bd,
        count(*) filter (where course.hinh_thuc = 'chinh_tri') as lop_bd_chinh_tri,
        count(*) filter (where course.hinh_thuc = 'chuyen_mon') as lop_bd_chuyen_mon,
        count(*) filter (where course.hinh_thuc = 'truc_tuyen') as lop_bd_truc_tuyen,
        sum(course.so_hoc_vien) as hoc_vien_bd,
        coalesce(sum(course.so_hoc_vien) filter (where course.hinh_thuc = 'chinh_tri'), 0) as hoc_vien_bd_chinh_tri,
        coalesce(sum(course.so_hoc_vien) filter (where course.hinh_thuc = 'chuyen_mon'), 0) as hoc_vien_bd_chuyen_mon,
        coalesce(sum(course.so_hoc_vien) filter (where course.hinh_thuc = 'truc_tuyen'), 0) as hoc_vien_bd_truc_tuyen,
        sum(course.kinh_phi) as kinh_phi_bd
    from core.fact_training_course as course
    where not exists (select from rollup_period)
       or (course.nam_hoc, course.ky_bao_cao) in (select nam_hoc, ky_bao_cao from rollup_period)
    group by course.ma_don_vi, course.nam_hoc, course.ky_bao_cao
)

-- one row per district and period
select
    school_sums.ma_don_vi,
    school_sums.nam_hoc,
    school_sums.ky_bao_cao,
    school_year.qualification_floor,
    school_sums.so_truong, school_sums.so_truong_cong_lap,
    school_sums.so_truong - school_sums.so_truong_cong_lap,  -- loai_hinh is never NULL: the others
    school_sums.dat_chuan_qg,
    school_sums.thieu_gv, school_sums.so_nhom_tre, school_sums.so_lop_mau_giao, school_sums.so_lop_5_tuoi,
    school_sums.tre_nha_tre, school_sums.tre_mau_giao, school_sums.tre_5_tuoi, school_sums.cbql_tong,
    school_sums.cbql_bien_che, school_sums.cbql_dang_vien, school_sums.cbql_td_duoi_trung_cap, school_sums.cbql_td_trung_cap,
    school_sums.cbql_td_cao_dang, school_sums.cbql_td_dai_hoc, school_sums.cbql_td_sau_dai_hoc, school_sums.gv_tong,
    school_sums.gv_bien_che, school_sums.gv_td_duoi_trung_cap, school_sums.gv_td_trung_cap, school_sums.gv_td_cao_dang,
    school_sums.gv_td_dai_hoc, school_sums.gv_td_sau_dai_hoc, school_sums.gv_hang_1, school_sums.gv_hang_2,
    school_sums.gv_hang_3, school_sums.gv_hang_4, school_sums.gv_chua_xep_hang, school_sums.nv_tong,
    school_sums.gv_nghi_huu, school_sums.gv_tuyen_moi, school_sums.gv_duoc_danh_gia, school_sums.gv_tot,
    school_sums.gv_kha, school_sums.gv_dat, school_sums.gv_chua_dat, school_sums.cbql_duoc_danh_gia,
    school_sums.cbql_tot, school_sums.cbql_kha, school_sums.cbql_dat, school_sums.cbql_chua_dat,
    school_sums.gv_cot_can, school_sums.cbql_cot_can, school_sums.cot_can_bd_ho_tro, school_sums.gv_bd_theo_chuan,
    school_sums.cbql_bd_theo_chuan, school_sums.gv_hoan_thanh_bdtx, school_sums.cbql_hoan_thanh_bdtx, school_sums.gv_tin_hoc,
    school_sums.cbql_tin_hoc, school_sums.gv_ngoai_ngu, school_sums.cbql_ngoai_ngu, school_sums.gv_llct,
    school_sums.cbql_llct, school_sums.gv_bo_nhiem_hang, school_sums.gv_bo_nhiem_hang_co_cc, school_sums.cbql_bo_nhiem,
    school_sums.cbql_bo_nhiem_co_cc,
    population.dan_so_0_2, population.dan_so_3_5, population.dan_so_5,
    coalesce(course_sums.lop_bd, 0), coalesce(course_sums.lop_bd_chinh_tri, 0), coalesce(course_sums.lop_bd_chuyen_mon, 0),
    coalesce(course_sums.lop_bd_truc_tuyen, 0), coalesce(course_sums.hoc_vien_bd, 0), coalesce(course_sums.hoc_vien_bd_chinh_tri, 0),
    coalesce(course_sums.hoc_vien_bd_chuyen_mon, 0), coalesce(course_sums.hoc_vien_bd_truc_tuyen, 0), coalesce(course_sums.kinh_phi_bd, 0)
from school_sums
join core.school_year as school_year on school_year.nam_hoc = school_sums.nam_hoc
left join core.fact_district_period as population
    on population.ma_don_vi = school_sums.ma_don_vi
   and population.nam_hoc = school_sums.nam_hoc
   and population.ky_bao_cao = school_sums.ky_bao_cao
left join course_sums
    on course_sums.ma_don_vi = school_sums.ma_don_vi
   and course_sums.nam_hoc = school_sums.nam_hoc
   and course_sums.ky_bao_cao = school_sums.ky_bao_cao;
