-- Publishing, second part (etl.load.publish_accepted), run only when some winner replaces a current
-- submission: the replaced submissions' facts are deleted before publish.sql writes the winners'.
-- Input, integers written in by publish_accepted: :replaced_ids, the ids of the current submissions being
-- replaced (publish_winners.sql gives them), and the lowest and highest of them, :replaced_first_id and
-- :replaced_last_id, which let the BRIN index of staging.truong_lop (migration 0006) skip every page
-- outside their range, however many years of versions staging holds. Facts exist only for current submissions, so a
-- district's first submission of a period has nothing here to delete, and this is not run for it
-- (planning these deletes was a quarter of a province night's publishing).

-- A replaced submission's school facts are its staged schools, each found by the facts' primary key (the
-- facts have no district index: migration 0011). Facts are written only by publish.sql, from the
-- TruongLop rows of the current submission, so these are all of its district and period's facts.
delete from core.fact_school_period as fact
using dq.submission as replaced
join staging.truong_lop as school
    on school.submission_id = replaced.submission_id
    and school.submission_id between :replaced_first_id and :replaced_last_id
where replaced.submission_id in (:replaced_ids)
    and fact.ma_truong = school.ma_truong and fact.nam_hoc = replaced.nam_hoc
    and fact.ky_bao_cao = replaced.ky_bao_cao and fact.submission_id = replaced.submission_id;

delete from core.fact_district_period as fact
using dq.submission as replaced
where replaced.submission_id in (:replaced_ids)
    and fact.ma_don_vi = replaced.ma_don_vi and fact.nam_hoc = replaced.nam_hoc
    and fact.ky_bao_cao = replaced.ky_bao_cao;

delete from core.fact_training_course as fact
using dq.submission as replaced
where replaced.submission_id in (:replaced_ids)
    and fact.ma_don_vi = replaced.ma_don_vi and fact.nam_hoc = replaced.nam_hoc
    and fact.ky_bao_cao = replaced.ky_bao_cao
