-- Câu hỏi: Trường nào còn thiếu giáo viên so với định mức (theo số nhóm trẻ, lớp mẫu giáo)
--          trong năm học gần nhất?
-- Question: which schools lack teachers by the staffing norm (teachers per nursery group and
--           per kindergarten class, core.norm) in the latest school year (CN round)?
-- Per school: needed = ceil(norm per group x groups + norm per class x classes); lacking =
-- needed - gv_tong when positive. Summed over a district this is the thieu_gv indicator.

with

fact_school_period as (
    select * from core.fact_school_period
),

school as (
    select * from core.school
),

district as (
    select * from core.district
),

norm as (
    select * from core.norm
),

latest_year as (
    select max(fact_school_period.nam_hoc) as nam_hoc
    from fact_school_period
    where fact_school_period.ky_bao_cao = 'CN'
),

school_need as (
    select
        fact_school_period.nam_hoc,
        fact_school_period.ma_don_vi,
        fact_school_period.ma_truong,
        fact_school_period.so_nhom_tre,
        fact_school_period.so_lop_mau_giao,
        fact_school_period.gv_tong,
        ceil(
            norm.gv_per_nhom_tre * fact_school_period.so_nhom_tre
            + norm.gv_per_lop_mau_giao * fact_school_period.so_lop_mau_giao
        ) as gv_theo_dinh_muc
    from fact_school_period
    inner join latest_year
        on latest_year.nam_hoc = fact_school_period.nam_hoc
    inner join district
        on district.ma_don_vi = fact_school_period.ma_don_vi
    inner join norm
        on norm.ma_tinh = district.ma_tinh
    where fact_school_period.ky_bao_cao = 'CN'
)

select
    school_need.nam_hoc,
    school_need.ma_don_vi,
    district.ten_don_vi,
    school_need.ma_truong,
    school.ten_truong,
    school_need.so_nhom_tre,
    school_need.so_lop_mau_giao,
    school_need.gv_tong,
    school_need.gv_theo_dinh_muc,
    school_need.gv_theo_dinh_muc - school_need.gv_tong as thieu_gv
from school_need
inner join school
    on school.ma_truong = school_need.ma_truong
inner join district
    on district.ma_don_vi = school_need.ma_don_vi
where school_need.gv_tong < school_need.gv_theo_dinh_muc
order by thieu_gv desc, school_need.ma_truong;
