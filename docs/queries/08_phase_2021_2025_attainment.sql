-- Câu hỏi: Kết quả thực hiện các chỉ tiêu giai đoạn 2021-2025 của tỉnh: năm gốc, năm học
--          gần nhất có số liệu, chỉ tiêu, đạt hay chưa?
-- Question: province-level attainment of the 2021-2025 plan targets: baseline value, the
--           latest end-of-year value up to the target year, the target, and whether it is met.
-- met is NULL until the target year itself has been reported (a target is judged on the CN
-- value of the year it is due); higher_is_better = false means lower is better (thieu_gv).

with

target as (
    select * from core.target
),

indicator as (
    select * from core.indicator
),

province_indicator as (
    select * from mart.province_indicator
),

phase_target as (
    select
        target.indicator,
        target.target_value,
        target.target_nam_hoc,
        target.baseline_nam_hoc
    from target
    where target.unit_type = 'province'
      and target.phase = '2021-2025'
),

end_of_year as (
    select
        province_indicator.indicator,
        province_indicator.nam_hoc,
        province_indicator.value
    from province_indicator
    where province_indicator.ky_bao_cao = 'CN'
),

latest_value as (
    select distinct on (phase_target.indicator)
        phase_target.indicator,
        end_of_year.nam_hoc,
        end_of_year.value
    from phase_target
    inner join end_of_year
        on end_of_year.indicator = phase_target.indicator
       and end_of_year.nam_hoc <= phase_target.target_nam_hoc
       and end_of_year.value is not null
    order by phase_target.indicator, end_of_year.nam_hoc desc
),

attainment as (
    select
        phase_target.indicator,
        indicator.label_vi,
        indicator.higher_is_better,
        phase_target.baseline_nam_hoc,
        baseline.value as baseline_value,
        latest_value.nam_hoc as latest_nam_hoc,
        latest_value.value as latest_value,
        phase_target.target_nam_hoc,
        phase_target.target_value,
        case
            when latest_value.nam_hoc is distinct from phase_target.target_nam_hoc then null
            when indicator.higher_is_better is false then latest_value.value <= phase_target.target_value
            else latest_value.value >= phase_target.target_value
        end as met
    from phase_target
    inner join indicator
        on indicator.indicator = phase_target.indicator
    left join end_of_year as baseline
        on baseline.indicator = phase_target.indicator
       and baseline.nam_hoc = phase_target.baseline_nam_hoc
    left join latest_value
        on latest_value.indicator = phase_target.indicator
)

select
    attainment.indicator,
    attainment.label_vi,
    attainment.baseline_nam_hoc,
    round(attainment.baseline_value, 2) as baseline_value,
    attainment.latest_nam_hoc,
    round(attainment.latest_value, 2) as latest_value,
    round(attainment.latest_value - attainment.baseline_value, 2) as change_since_baseline,
    attainment.target_nam_hoc,
    attainment.target_value,
    attainment.met
from attainment
order by attainment.met nulls first, attainment.indicator;
