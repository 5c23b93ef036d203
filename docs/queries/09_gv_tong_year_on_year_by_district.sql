-- Câu hỏi: Số giáo viên (gv_tong) của từng huyện tăng giảm bao nhiêu so với năm học trước?
-- Question: year-on-year change of the number of teachers (gv_tong) by district, end of
--           each school year (CN round), absolute and in percent of the previous year.

with

district as (
    select * from core.district
),

district_indicator as (
    select * from mart.district_indicator
),

teachers as (
    select
        district_indicator.ma_don_vi,
        district_indicator.nam_hoc,
        district_indicator.value as gv_tong
    from district_indicator
    where district_indicator.indicator = 'gv_tong'
      and district_indicator.ky_bao_cao = 'CN'
),

with_previous as (
    select
        teachers.ma_don_vi,
        teachers.nam_hoc,
        teachers.gv_tong,
        lag(teachers.nam_hoc) over district_years as previous_nam_hoc,
        lag(teachers.gv_tong) over district_years as previous_gv_tong
    from teachers
    window district_years as (partition by teachers.ma_don_vi order by teachers.nam_hoc)
)

select
    with_previous.ma_don_vi,
    district.ten_don_vi,
    with_previous.nam_hoc,
    with_previous.gv_tong,
    with_previous.previous_nam_hoc,
    with_previous.previous_gv_tong,
    with_previous.gv_tong - with_previous.previous_gv_tong as change,
    round(
        100 * (with_previous.gv_tong - with_previous.previous_gv_tong)
        / nullif(with_previous.previous_gv_tong, 0),
        2
    ) as change_pct
from with_previous
inner join district
    on district.ma_don_vi = with_previous.ma_don_vi
order by with_previous.ma_don_vi, with_previous.nam_hoc;
