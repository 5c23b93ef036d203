-- mart.reporting_status: a valid file held because its period is locked (status `held`) counts as sent. A
-- district whose only file for the period was held showed `missing`: the reminders skip it (it did send) but
-- the status, the Sở's summary and the report's submission sheet said it had not. Now its status is on_time or
-- late by the first valid file's day (accepted, superseded or held), and submission_id is the current
-- submission, or the latest held file when none is current (its figures wait for `tonghop unlock`).
-- Same columns and order: `create or replace` keeps the view's grants and comments; the view's own comment is
-- restated.

create or replace view mart.reporting_status as
with due_period as (
    -- A period is due for a district once its deadline has passed (the deadline day is the district's to the
    -- end: the day after, in Vietnam), or as soon as it sent something for it.
    select d.ma_don_vi, p.nam_hoc, p.ky_bao_cao, p.deadline
    from core.district as d
    cross join core.reporting_period as p
    where p.deadline < (now() at time zone 'Asia/Ho_Chi_Minh')::date
       or exists (
           select from dq.submission as s
           where s.ma_don_vi = d.ma_don_vi and s.nam_hoc = p.nam_hoc and s.ky_bao_cao = p.ky_bao_cao
       )
),
first_accepted as (
    -- The deadline is met by the first valid file sent for the period, even if later replaced, or held
    -- because the period was locked.
    select ma_don_vi, nam_hoc, ky_bao_cao,
           min((received_at at time zone 'Asia/Ho_Chi_Minh')::date) as first_accepted_on
    from dq.submission
    where status in ('accepted', 'superseded', 'held')
    group by ma_don_vi, nam_hoc, ky_bao_cao
),
last_held as (
    select distinct on (ma_don_vi, nam_hoc, ky_bao_cao) ma_don_vi, nam_hoc, ky_bao_cao, submission_id
    from dq.submission
    where status = 'held'
    order by ma_don_vi, nam_hoc, ky_bao_cao, received_at desc, submission_id desc
),
last_rejected as (
    select distinct on (ma_don_vi, nam_hoc, ky_bao_cao) ma_don_vi, nam_hoc, ky_bao_cao, submission_id
    from dq.submission
    where status = 'rejected'
    order by ma_don_vi, nam_hoc, ky_bao_cao, received_at desc, submission_id desc
)
select
    due_period.ma_don_vi,
    due_period.nam_hoc,
    due_period.ky_bao_cao,
    due_period.deadline,
    case
        when first_accepted.first_accepted_on <= due_period.deadline then 'on_time'
        when first_accepted.first_accepted_on is not null then 'late'
        when last_rejected.submission_id is not null then 'rejected'
        else 'missing'
    end as status,
    coalesce(current_submission.submission_id, last_held.submission_id, last_rejected.submission_id) as submission_id
from due_period
left join core.current_submission
    on current_submission.ma_don_vi = due_period.ma_don_vi
   and current_submission.nam_hoc = due_period.nam_hoc
   and current_submission.ky_bao_cao = due_period.ky_bao_cao
left join first_accepted
    on first_accepted.ma_don_vi = due_period.ma_don_vi
   and first_accepted.nam_hoc = due_period.nam_hoc
   and first_accepted.ky_bao_cao = due_period.ky_bao_cao
left join last_held
    on last_held.ma_don_vi = due_period.ma_don_vi
   and last_held.nam_hoc = due_period.nam_hoc
   and last_held.ky_bao_cao = due_period.ky_bao_cao
left join last_rejected
    on last_rejected.ma_don_vi = due_period.ma_don_vi
   and last_rejected.nam_hoc = due_period.nam_hoc
   and last_rejected.ky_bao_cao = due_period.ky_bao_cao;
comment on view mart.reporting_status is 'One row per district and period that is due (its deadline day is over, or something was sent): on_time (first valid file, accepted or held for a locked period, by the deadline), late, missing, rejected (only rejected files so far); submission_id: the current submission, else the latest held file, else the latest rejected one.';
