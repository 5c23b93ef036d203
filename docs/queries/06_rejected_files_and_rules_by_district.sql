-- Câu hỏi: Mỗi huyện đã gửi bao nhiêu tệp, bao nhiêu tệp bị từ chối, và lỗi nào gặp nhiều nhất?
-- Question: per district, how many files were received, how many were rejected, and which
--           rule caused the most errors in its rejected files (dq.submission, dq.issue)?
-- Every district of the registry is listed, also those whose files were all accepted
-- (most_frequent_error_rule is then empty). Duplicates (same bytes resent) are not counted.

with

district as (
    select * from core.district
),

submission as (
    select * from dq.submission
),

issue as (
    select * from dq.issue
),

file_counts as (
    select
        submission.ma_don_vi,
        count(*) as files_received,
        count(*) filter (where submission.status in ('accepted', 'superseded')) as files_accepted,
        count(*) filter (where submission.status = 'rejected') as files_rejected,
        count(*) filter (where submission.status = 'held') as files_held,
        sum(submission.n_warnings) as warnings,
        max(submission.received_at) filter (where submission.status = 'rejected') as last_rejected_at
    from submission
    where submission.status <> 'duplicate'
    group by submission.ma_don_vi
),

rejected_errors as (
    select
        submission.ma_don_vi,
        issue.rule,
        count(*) as n_errors
    from issue
    inner join submission
        on submission.submission_id = issue.submission_id
    where submission.status = 'rejected'
      and issue.severity = 'error'
    group by submission.ma_don_vi, issue.rule
),

ranked_rules as (
    select
        rejected_errors.ma_don_vi,
        rejected_errors.rule,
        rejected_errors.n_errors,
        sum(rejected_errors.n_errors) over (partition by rejected_errors.ma_don_vi) as total_errors,
        row_number() over (
            partition by rejected_errors.ma_don_vi
            order by rejected_errors.n_errors desc, rejected_errors.rule
        ) as rule_rank
    from rejected_errors
)

select
    district.ma_don_vi,
    district.ten_don_vi,
    coalesce(file_counts.files_received, 0) as files_received,
    coalesce(file_counts.files_accepted, 0) as files_accepted,
    coalesce(file_counts.files_rejected, 0) as files_rejected,
    coalesce(file_counts.files_held, 0) as files_held,
    coalesce(ranked_rules.total_errors, 0) as errors_in_rejected_files,
    coalesce(file_counts.warnings, 0) as warnings,
    ranked_rules.rule as most_frequent_error_rule,
    ranked_rules.n_errors as most_frequent_error_count,
    file_counts.last_rejected_at
from district
left join file_counts
    on file_counts.ma_don_vi = district.ma_don_vi
left join ranked_rules
    on ranked_rules.ma_don_vi = district.ma_don_vi
   and ranked_rules.rule_rank = 1
order by files_rejected desc, errors_in_rejected_files desc, district.ma_don_vi;
