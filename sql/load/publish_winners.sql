-- Publishing, first part (etl.load.publish_accepted, inside the load transaction, after the batch's
-- staging COPY): choose the winners and set the status of every submission concerned, in one statement.
-- Input: :batch_ids, the ids of the batch's submissions the rules accepted whose periods are not locked
-- (integers written in by publish_accepted). Per district and period the latest received one wins and
-- becomes 'accepted'; every other one of the batch for that period, and the current submission a winner
-- replaces, becomes 'superseded'. Returns the winners, each with the submission it replaces (NULL when
-- it is the district's first for the period): publish.sql writes the winners' facts, and
-- retire_replaced.sql, run only when some winner replaces one, deletes the replaced ones' facts.
-- No temporary table: a winners table, emptied at every commit, cost as much at commit (truncation) and
-- in its upkeep as the publishing it served, on a province night.
with ranked as (
    select
        submission.submission_id, submission.ma_don_vi, submission.nam_hoc, submission.ky_bao_cao,
        row_number() over (
            partition by submission.ma_don_vi, submission.nam_hoc, submission.ky_bao_cao
            order by submission.received_at desc, submission.submission_id desc
        ) = 1 as wins
    from dq.submission as submission
    where submission.submission_id in (:batch_ids)
),

decided as (
    select
        ranked.submission_id, ranked.wins,
        case when ranked.wins then current_submission.submission_id end as replaced_submission_id
    from ranked
    left join core.current_submission as current_submission
        on current_submission.ma_don_vi = ranked.ma_don_vi
        and current_submission.nam_hoc = ranked.nam_hoc
        and current_submission.ky_bao_cao = ranked.ky_bao_cao
        and current_submission.submission_id <> ranked.submission_id
),

batch_status as (
    update dq.submission as submission
    set status = case when decided.wins then 'accepted' else 'superseded' end
    from decided
    where submission.submission_id = decided.submission_id
),

replaced_status as (
    update dq.submission as submission
    set status = 'superseded'
    from decided
    where submission.submission_id = decided.replaced_submission_id
)

select submission_id, replaced_submission_id
from decided
where wins
order by submission_id
