-- Câu hỏi: Huyện nào chưa nộp, nộp muộn hoặc chỉ có tệp bị từ chối, ở kỳ báo cáo nào?
-- Question: which districts are missing, late, or have only rejected files, for which
--           reporting period (mart.reporting_status), most recent periods first?
-- days_after_deadline: for a late period, days between the deadline and the first accepted
-- file; for a rejected one, days between the deadline and the latest rejected file.

with

reporting_status as (
    select * from mart.reporting_status
),

district as (
    select * from core.district
),

reporting_round as (
    select * from core.round
),

submission as (
    select * from dq.submission
),

first_accepted as (
    select
        submission.ma_don_vi,
        submission.nam_hoc,
        submission.ky_bao_cao,
        min((submission.received_at at time zone 'Asia/Ho_Chi_Minh')::date) as first_accepted_on
    from submission
    where submission.status in ('accepted', 'superseded')
    group by submission.ma_don_vi, submission.nam_hoc, submission.ky_bao_cao
),

not_on_time as (
    select
        reporting_status.nam_hoc,
        reporting_status.ky_bao_cao,
        reporting_round.sort_order,
        reporting_status.ma_don_vi,
        district.ten_don_vi,
        reporting_status.status,
        reporting_status.deadline,
        case reporting_status.status
            when 'late' then first_accepted.first_accepted_on
            when 'rejected' then (submission.received_at at time zone 'Asia/Ho_Chi_Minh')::date
        end as file_on,
        district.email
    from reporting_status
    inner join district
        on district.ma_don_vi = reporting_status.ma_don_vi
    inner join reporting_round
        on reporting_round.ky_bao_cao = reporting_status.ky_bao_cao
    left join submission
        on submission.submission_id = reporting_status.submission_id
    left join first_accepted
        on first_accepted.ma_don_vi = reporting_status.ma_don_vi
       and first_accepted.nam_hoc = reporting_status.nam_hoc
       and first_accepted.ky_bao_cao = reporting_status.ky_bao_cao
    where reporting_status.status <> 'on_time'
)

select
    not_on_time.nam_hoc,
    not_on_time.ky_bao_cao,
    not_on_time.ma_don_vi,
    not_on_time.ten_don_vi,
    not_on_time.status,
    not_on_time.deadline,
    not_on_time.file_on,
    not_on_time.file_on - not_on_time.deadline as days_after_deadline,
    not_on_time.email
from not_on_time
order by not_on_time.nam_hoc desc, not_on_time.sort_order desc, not_on_time.ma_don_vi;
