-- Câu hỏi: Trình độ đào tạo của giáo viên từng huyện trong năm học gần nhất: bao nhiêu người ở
--          mỗi trình độ, tỷ lệ đạt chuẩn và trên chuẩn theo chuẩn đang áp dụng?
-- Question: teachers' qualifications by district in the latest school year (CN round): head
--           counts per level, and the shares at and above the standard in force that year.
-- Head counts come from core.fact_school_period; the percentages from mart.district_indicator
-- (the same ratio of sums the reports use). qualification_floor is the lowest level meeting
-- the standard: trung_cap before 2020-2021, cao_dang from then on.

with

fact_school_period as (
    select * from core.fact_school_period
),

district as (
    select * from core.district
),

school_year as (
    select * from core.school_year
),

district_indicator as (
    select * from mart.district_indicator
),

latest_year as (
    select max(fact_school_period.nam_hoc) as nam_hoc
    from fact_school_period
    where fact_school_period.ky_bao_cao = 'CN'
),

head_counts as (
    select
        fact_school_period.nam_hoc,
        fact_school_period.ma_don_vi,
        sum(fact_school_period.gv_tong) as gv_tong,
        sum(fact_school_period.gv_td_duoi_trung_cap) as gv_duoi_trung_cap,
        sum(fact_school_period.gv_td_trung_cap) as gv_trung_cap,
        sum(fact_school_period.gv_td_cao_dang) as gv_cao_dang,
        sum(fact_school_period.gv_td_dai_hoc) as gv_dai_hoc,
        sum(fact_school_period.gv_td_sau_dai_hoc) as gv_sau_dai_hoc
    from fact_school_period
    inner join latest_year
        on latest_year.nam_hoc = fact_school_period.nam_hoc
    where fact_school_period.ky_bao_cao = 'CN'
    group by fact_school_period.nam_hoc, fact_school_period.ma_don_vi
),

shares as (
    select
        district_indicator.nam_hoc,
        district_indicator.ma_don_vi,
        max(district_indicator.value) filter (where district_indicator.indicator = 'gv_cd_tro_len')
            as gv_cd_tro_len,
        max(district_indicator.value) filter (where district_indicator.indicator = 'gv_dat_chuan_td')
            as gv_dat_chuan_td,
        max(district_indicator.value) filter (where district_indicator.indicator = 'gv_tren_chuan_td')
            as gv_tren_chuan_td
    from district_indicator
    where district_indicator.ky_bao_cao = 'CN'
      and district_indicator.indicator in ('gv_cd_tro_len', 'gv_dat_chuan_td', 'gv_tren_chuan_td')
    group by district_indicator.nam_hoc, district_indicator.ma_don_vi
)

select
    head_counts.nam_hoc,
    head_counts.ma_don_vi,
    district.ten_don_vi,
    school_year.qualification_floor,
    head_counts.gv_tong,
    head_counts.gv_duoi_trung_cap,
    head_counts.gv_trung_cap,
    head_counts.gv_cao_dang,
    head_counts.gv_dai_hoc,
    head_counts.gv_sau_dai_hoc,
    round(shares.gv_cd_tro_len, 2) as gv_cd_tro_len_pct,
    round(shares.gv_dat_chuan_td, 2) as gv_dat_chuan_td_pct,
    round(shares.gv_tren_chuan_td, 2) as gv_tren_chuan_td_pct
from head_counts
inner join district
    on district.ma_don_vi = head_counts.ma_don_vi
inner join school_year
    on school_year.nam_hoc = head_counts.nam_hoc
left join shares
    on shares.nam_hoc = head_counts.nam_hoc
   and shares.ma_don_vi = head_counts.ma_don_vi
order by shares.gv_dat_chuan_td, head_counts.ma_don_vi;
