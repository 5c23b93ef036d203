-- Câu hỏi: Mỗi huyện tổ chức bao nhiêu lớp bồi dưỡng, bao nhiêu học viên, tỷ lệ hoàn thành và
--          kinh phí bình quân một học viên trong năm học gần nhất?
-- Question: training courses run by each district in the latest school year: courses,
--           trainees, completion rate, cost (million VND) and cost per trainee.
-- The end-of-year report (CN) lists the courses of the whole school year, so only CN is used
-- (adding HKI would count the first semester's courses twice).

with

fact_training_course as (
    select * from core.fact_training_course
),

district as (
    select * from core.district
),

latest_year as (
    select max(fact_training_course.nam_hoc) as nam_hoc
    from fact_training_course
    where fact_training_course.ky_bao_cao = 'CN'
),

district_training as (
    select
        fact_training_course.nam_hoc,
        fact_training_course.ma_don_vi,
        count(*) as courses,
        count(*) filter (where fact_training_course.hinh_thuc = 'chinh_tri') as courses_chinh_tri,
        count(*) filter (where fact_training_course.hinh_thuc = 'chuyen_mon') as courses_chuyen_mon,
        count(*) filter (where fact_training_course.hinh_thuc = 'truc_tuyen') as courses_truc_tuyen,
        sum(fact_training_course.so_hoc_vien) as trainees,
        sum(fact_training_course.so_hoan_thanh) as completed,
        sum(fact_training_course.kinh_phi) as cost_million_vnd
    from fact_training_course
    inner join latest_year
        on latest_year.nam_hoc = fact_training_course.nam_hoc
    where fact_training_course.ky_bao_cao = 'CN'
    group by fact_training_course.nam_hoc, fact_training_course.ma_don_vi
)

select
    district_training.nam_hoc,
    district_training.ma_don_vi,
    district.ten_don_vi,
    district_training.courses,
    district_training.courses_chinh_tri,
    district_training.courses_chuyen_mon,
    district_training.courses_truc_tuyen,
    district_training.trainees,
    district_training.completed,
    round(100.0 * district_training.completed / nullif(district_training.trainees, 0), 2) as completion_pct,
    district_training.cost_million_vnd,
    round(district_training.cost_million_vnd / nullif(district_training.trainees, 0), 4)
        as cost_per_trainee_million_vnd
from district_training
inner join district
    on district.ma_don_vi = district_training.ma_don_vi
order by cost_per_trainee_million_vnd desc nulls last, district_training.ma_don_vi;
