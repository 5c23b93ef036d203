-- Câu hỏi: Những huyện nào chưa đạt chỉ tiêu năm học 2024-2025 về tỷ lệ giáo viên
--          đạt chuẩn nghề nghiệp mức khá trở lên (gv_kha_tro_len)?
-- Question: which districts are below the 2024-2025 target for the share of teachers
--           rated khá or above (gv_kha_tro_len)?
-- The district's own target when it has one, else the province target; the gap is in
-- percentage points, compared on unrounded values.

with

district as (
    select * from core.district
),

target as (
    select * from core.target
),

district_indicator as (
    select * from mart.district_indicator
),

district_value as (
    select
        district_indicator.ma_don_vi,
        district_indicator.value
    from district_indicator
    where district_indicator.indicator = 'gv_kha_tro_len'
      and district_indicator.nam_hoc = '2024-2025'
      and district_indicator.ky_bao_cao = 'CN'
),

province_target as (
    select
        target.unit_code as ma_tinh,
        target.target_value
    from target
    where target.unit_type = 'province'
      and target.indicator = 'gv_kha_tro_len'
      and target.target_nam_hoc = '2024-2025'
),

district_target as (
    select
        target.unit_code as ma_don_vi,
        target.target_value
    from target
    where target.unit_type = 'district'
      and target.indicator = 'gv_kha_tro_len'
      and target.target_nam_hoc = '2024-2025'
),

compared as (
    select
        district.ma_don_vi,
        district.ten_don_vi,
        district_value.value,
        coalesce(district_target.target_value, province_target.target_value) as target,
        case when district_target.target_value is not null then 'district' else 'province' end as target_of,
        district_value.value
            - coalesce(district_target.target_value, province_target.target_value) as gap_points
    from district_value
    inner join district
        on district.ma_don_vi = district_value.ma_don_vi
    left join district_target
        on district_target.ma_don_vi = district_value.ma_don_vi
    left join province_target
        on province_target.ma_tinh = district.ma_tinh
)

select
    compared.ma_don_vi,
    compared.ten_don_vi,
    round(compared.value, 2) as gv_kha_tro_len_pct,
    compared.target,
    compared.target_of,
    round(compared.gap_points, 2) as gap_points
from compared
where compared.value < compared.target
order by compared.gap_points, compared.ma_don_vi;
