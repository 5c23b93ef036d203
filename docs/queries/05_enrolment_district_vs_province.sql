-- Câu hỏi: Tỷ lệ huy động trẻ đến trường (nhà trẻ, mẫu giáo, 5 tuổi) của từng huyện so với
--          toàn tỉnh trong năm học gần nhất?
-- Question: enrolment rates (nursery, kindergarten, five-year-olds) of each district against
--           the province in the latest school year (CN round), with the province target.
-- The province rate is the ratio of the districts' sums, not an average of district rates.

with

district as (
    select * from core.district
),

district_indicator as (
    select * from mart.district_indicator
),

province_indicator as (
    select * from mart.province_indicator
),

latest_year as (
    select max(province_indicator.nam_hoc) as nam_hoc
    from province_indicator
    where province_indicator.ky_bao_cao = 'CN'
),

enrolment as (
    select
        district_indicator.nam_hoc,
        district_indicator.indicator,
        district_indicator.ma_don_vi,
        district_indicator.numerator as children,
        district_indicator.denominator as population,
        district_indicator.value as district_value,
        province_indicator.value as province_value,
        province_indicator.target as province_target
    from district_indicator
    inner join latest_year
        on latest_year.nam_hoc = district_indicator.nam_hoc
    inner join province_indicator
        on province_indicator.nam_hoc = district_indicator.nam_hoc
       and province_indicator.ky_bao_cao = district_indicator.ky_bao_cao
       and province_indicator.indicator = district_indicator.indicator
    where district_indicator.ky_bao_cao = 'CN'
      and district_indicator.indicator in ('huy_dong_nha_tre', 'huy_dong_mau_giao', 'huy_dong_5_tuoi')
)

select
    enrolment.nam_hoc,
    enrolment.indicator,
    enrolment.ma_don_vi,
    district.ten_don_vi,
    enrolment.children,
    enrolment.population,
    round(enrolment.district_value, 2) as district_pct,
    round(enrolment.province_value, 2) as province_pct,
    round(enrolment.district_value - enrolment.province_value, 2) as difference_points,
    enrolment.province_target
from enrolment
inner join district
    on district.ma_don_vi = enrolment.ma_don_vi
order by enrolment.indicator, enrolment.district_value, enrolment.ma_don_vi;
