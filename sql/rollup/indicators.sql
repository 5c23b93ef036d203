-- Roll-up: every indicator of spec/indicators.md per district and per province, as ratios of sums.
-- Rebuilds mart.district_indicator and mart.province_indicator from the current accepted data in core,
-- in one statement each inside the caller's transaction. One aggregation with grouping sets gives
-- both the district sums and the province sums (the province is summed from the schools, which is the
-- same as summing the districts' numerators and denominators).

create temporary table unit_sums on commit drop as
with

school as (
    -- One row per school and period. thieu_gv is computed per school (ceil of the norm) in exact
    -- numeric arithmetic, then summed: teachers missing at one school are not offset by another's surplus.
    select
        f.*,
        greatest(0, ceil(norm.gv_per_nhom_tre * f.so_nhom_tre + norm.gv_per_lop_mau_giao * f.so_lop_mau_giao)
                    - f.gv_tong) as thieu_gv
    from core.fact_school_period as f
    cross join core.norm as norm
),

school_sums as (
    select
        school.nam_hoc,
        school.ky_bao_cao,
        school.ma_don_vi,
        grouping(school.ma_don_vi) = 1 as is_province,
        count(distinct school.ma_don_vi) as n_districts,
        count(*) as so_truong,
        count(*) filter (where school.loai_hinh = 'cong_lap') as so_truong_cong_lap,
        count(*) filter (where school.loai_hinh <> 'cong_lap') as so_truong_ngoai_cong_lap,
        sum(school.dat_chuan_qg) as dat_chuan_qg,
        sum(school.thieu_gv) as thieu_gv,
        sum(school.so_nhom_tre) as so_nhom_tre,
        sum(school.so_lop_mau_giao) as so_lop_mau_giao,
        sum(school.so_lop_5_tuoi) as so_lop_5_tuoi,
        sum(school.tre_nha_tre) as tre_nha_tre,
        sum(school.tre_mau_giao) as tre_mau_giao,
        sum(school.tre_5_tuoi) as tre_5_tuoi,
        sum(school.cbql_tong) as cbql_tong,
        sum(school.cbql_bien_che) as cbql_bien_che,
        sum(school.cbql_dang_vien) as cbql_dang_vien,
        sum(school.cbql_td_duoi_trung_cap) as cbql_td_duoi_trung_cap,
        sum(school.cbql_td_trung_cap) as cbql_td_trung_cap,
        sum(school.cbql_td_cao_dang) as cbql_td_cao_dang,
        sum(school.cbql_td_dai_hoc) as cbql_td_dai_hoc,
        sum(school.cbql_td_sau_dai_hoc) as cbql_td_sau_dai_hoc,
        sum(school.gv_tong) as gv_tong,
        sum(school.gv_bien_che) as gv_bien_che,
        sum(school.gv_td_duoi_trung_cap) as gv_td_duoi_trung_cap,
        sum(school.gv_td_trung_cap) as gv_td_trung_cap,
        sum(school.gv_td_cao_dang) as gv_td_cao_dang,
        sum(school.gv_td_dai_hoc) as gv_td_dai_hoc,
        sum(school.gv_td_sau_dai_hoc) as gv_td_sau_dai_hoc,
        sum(school.gv_hang_1) as gv_hang_1,
        sum(school.gv_hang_2) as gv_hang_2,
        sum(school.gv_hang_3) as gv_hang_3,
        sum(school.gv_hang_4) as gv_hang_4,
        sum(school.gv_chua_xep_hang) as gv_chua_xep_hang,
        sum(school.nv_tong) as nv_tong,
        sum(school.gv_nghi_huu) as gv_nghi_huu,
        sum(school.gv_tuyen_moi) as gv_tuyen_moi,
        sum(school.gv_duoc_danh_gia) as gv_duoc_danh_gia,
        sum(school.gv_tot) as gv_tot,
        sum(school.gv_kha) as gv_kha,
        sum(school.gv_dat) as gv_dat,
        sum(school.gv_chua_dat) as gv_chua_dat,
        sum(school.cbql_duoc_danh_gia) as cbql_duoc_danh_gia,
        sum(school.cbql_tot) as cbql_tot,
        sum(school.cbql_kha) as cbql_kha,
        sum(school.cbql_dat) as cbql_dat,
        sum(school.cbql_chua_dat) as cbql_chua_dat,
        sum(school.gv_cot_can) as gv_cot_can,
        sum(school.cbql_cot_can) as cbql_cot_can,
        sum(school.cot_can_bd_ho_tro) as cot_can_bd_ho_tro,
        sum(school.gv_bd_theo_chuan) as gv_bd_theo_chuan,
        sum(school.cbql_bd_theo_chuan) as cbql_bd_theo_chuan,
        sum(school.gv_hoan_thanh_bdtx) as gv_hoan_thanh_bdtx,
        sum(school.cbql_hoan_thanh_bdtx) as cbql_hoan_thanh_bdtx,
        sum(school.gv_tin_hoc) as gv_tin_hoc,
        sum(school.cbql_tin_hoc) as cbql_tin_hoc,
        sum(school.gv_ngoai_ngu) as gv_ngoai_ngu,
        sum(school.cbql_ngoai_ngu) as cbql_ngoai_ngu,
        sum(school.gv_llct) as gv_llct,
        sum(school.cbql_llct) as cbql_llct,
        sum(school.gv_bo_nhiem_hang) as gv_bo_nhiem_hang,
        sum(school.gv_bo_nhiem_hang_co_cc) as gv_bo_nhiem_hang_co_cc,
        sum(school.cbql_bo_nhiem) as cbql_bo_nhiem,
        sum(school.cbql_bo_nhiem_co_cc) as cbql_bo_nhiem_co_cc
    from school
    group by grouping sets ((school.nam_hoc, school.ky_bao_cao, school.ma_don_vi),
                            (school.nam_hoc, school.ky_bao_cao))
),

population_sums as (
    select
        district.nam_hoc,
        district.ky_bao_cao,
        district.ma_don_vi,
        sum(district.dan_so_0_2) as dan_so_0_2,
        sum(district.dan_so_3_5) as dan_so_3_5,
        sum(district.dan_so_5) as dan_so_5
    from core.fact_district_period as district
    group by grouping sets ((district.nam_hoc, district.ky_bao_cao, district.ma_don_vi),
                            (district.nam_hoc, district.ky_bao_cao))
),

course_sums as (
    select
        course.nam_hoc,
        course.ky_bao_cao,
        course.ma_don_vi,
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
    group by grouping sets ((course.nam_hoc, course.ky_bao_cao, course.ma_don_vi),
                            (course.nam_hoc, course.ky_bao_cao))
)

select
    school_sums.*,
    school_year.qualification_floor,
    population_sums.dan_so_0_2,
    population_sums.dan_so_3_5,
    population_sums.dan_so_5,
    coalesce(course_sums.lop_bd, 0) as lop_bd,
    coalesce(course_sums.lop_bd_chinh_tri, 0) as lop_bd_chinh_tri,
    coalesce(course_sums.lop_bd_chuyen_mon, 0) as lop_bd_chuyen_mon,
    coalesce(course_sums.lop_bd_truc_tuyen, 0) as lop_bd_truc_tuyen,
    coalesce(course_sums.hoc_vien_bd, 0) as hoc_vien_bd,
    coalesce(course_sums.hoc_vien_bd_chinh_tri, 0) as hoc_vien_bd_chinh_tri,
    coalesce(course_sums.hoc_vien_bd_chuyen_mon, 0) as hoc_vien_bd_chuyen_mon,
    coalesce(course_sums.hoc_vien_bd_truc_tuyen, 0) as hoc_vien_bd_truc_tuyen,
    coalesce(course_sums.kinh_phi_bd, 0) as kinh_phi_bd
from school_sums
join core.school_year using (nam_hoc)
left join population_sums
    on population_sums.nam_hoc = school_sums.nam_hoc
   and population_sums.ky_bao_cao = school_sums.ky_bao_cao
   and population_sums.ma_don_vi is not distinct from school_sums.ma_don_vi
left join course_sums
    on course_sums.nam_hoc = school_sums.nam_hoc
   and course_sums.ky_bao_cao = school_sums.ky_bao_cao
   and course_sums.ma_don_vi is not distinct from school_sums.ma_don_vi;

create temporary table unit_indicator on commit drop as
with

unit_term as (
    -- One row per unit, period and indicator: its numerator and denominator (NULL for counts).
    -- "Standard in force": *_dat_chuan_td and *_tren_chuan_td follow core.school_year.qualification_floor.
    select u.nam_hoc, u.ky_bao_cao, u.ma_don_vi, u.is_province, u.n_districts, term.*
    from unit_sums as u
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
),

unit_value as (
    select
        unit_term.*,
        case indicator.unit
            when 'percent' then 100 * unit_term.numerator / nullif(unit_term.denominator, 0)
            when 'ratio' then unit_term.numerator / nullif(unit_term.denominator, 0)
            else unit_term.numerator
        end as value,
        indicator.higher_is_better
    from unit_term
    join core.indicator as indicator using (indicator)
),

applicable_target as (
    -- The target of the plan phase covering the school year: the earliest target due in or after it.
    select distinct on (unit_value.ma_don_vi, unit_value.nam_hoc, unit_value.ky_bao_cao, unit_value.indicator)
        unit_value.ma_don_vi, unit_value.nam_hoc, unit_value.ky_bao_cao, unit_value.indicator,
        target.target_value, target.target_nam_hoc
    from unit_value
    join core.target as target
        on target.indicator = unit_value.indicator
       and target.target_nam_hoc >= unit_value.nam_hoc
       and case when unit_value.is_province then target.unit_type = 'province'
                else target.unit_type = 'district' and target.unit_code = unit_value.ma_don_vi end
    order by unit_value.ma_don_vi, unit_value.nam_hoc, unit_value.ky_bao_cao, unit_value.indicator,
             target.target_nam_hoc
)

select
    unit_value.*,
    applicable_target.target_value as target,
    applicable_target.target_nam_hoc,
    case
        when unit_value.higher_is_better is false then unit_value.value <= applicable_target.target_value
        else unit_value.value >= applicable_target.target_value
    end as met
from unit_value
left join applicable_target
    on applicable_target.ma_don_vi is not distinct from unit_value.ma_don_vi
   and applicable_target.nam_hoc = unit_value.nam_hoc
   and applicable_target.ky_bao_cao = unit_value.ky_bao_cao
   and applicable_target.indicator = unit_value.indicator;

delete from mart.district_indicator;
insert into mart.district_indicator
    (ma_don_vi, nam_hoc, ky_bao_cao, indicator, numerator, denominator, value, target, target_nam_hoc, met,
     definition)
select ma_don_vi, nam_hoc, ky_bao_cao, indicator, numerator, denominator, value, target, target_nam_hoc, met,
       definition
from unit_indicator
where not is_province;

delete from mart.province_indicator;
insert into mart.province_indicator
    (nam_hoc, ky_bao_cao, indicator, numerator, denominator, value, target, target_nam_hoc, met, definition,
     n_districts)
select nam_hoc, ky_bao_cao, indicator, numerator, denominator, value, target, target_nam_hoc, met, definition,
       n_districts
from unit_indicator
where is_province;
