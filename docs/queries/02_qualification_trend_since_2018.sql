-- Câu hỏi: Tỷ lệ giáo viên đạt chuẩn và trên chuẩn trình độ đào tạo của tỉnh thay đổi thế nào
--          từ năm học 2018-2019? Năm nào chuẩn trình độ thay đổi (Luật Giáo dục 2019)?
-- Question: how have the province's shares of teachers at and above the qualification
--           standard (gv_dat_chuan_td, gv_tren_chuan_td) evolved since 2018-2019, and where
--           does the definition change? gv_cd_tro_len (cao đẳng and above) is shown alongside:
--           its meaning never changes, so it is the comparable series.
-- The change from the previous year is left empty in the year the definition changed.

with

indicator_trend as (
    select * from mart.indicator_trend
),

province_series as (
    select
        indicator_trend.indicator,
        indicator_trend.label_vi,
        indicator_trend.nam_hoc,
        indicator_trend.definition,
        indicator_trend.definition_changed,
        indicator_trend.value,
        indicator_trend.change_from_previous_year
    from indicator_trend
    where indicator_trend.unit_type = 'province'
      and indicator_trend.indicator in ('gv_dat_chuan_td', 'gv_tren_chuan_td', 'gv_cd_tro_len')
      and indicator_trend.nam_hoc >= '2018-2019'
)

select
    province_series.indicator,
    province_series.label_vi,
    province_series.nam_hoc,
    province_series.definition,
    province_series.definition_changed,
    round(province_series.value, 2) as value_pct,
    case
        when province_series.definition_changed then null
        else round(province_series.change_from_previous_year, 2)
    end as comparable_change_points
from province_series
order by province_series.indicator, province_series.nam_hoc;
