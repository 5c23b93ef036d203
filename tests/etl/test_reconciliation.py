"""Reconciliation checks across the layers (jaffle-shop style): what staging holds, core publishes and the
marts sum must agree, and the dq counts must match the findings."""

import pytest
import sqlalchemy as sa

from etl.ingest import ingest_files
from etl.rollup import rebuild_marts
from tests.conftest import SAMPLES

CHECKS = {
    "every staged row belongs to a recorded submission": """
        select count(*) from (
            select submission_id from staging.thong_tin union all select submission_id from staging.truong_lop
            union all select submission_id from staging.doi_ngu union all select submission_id from staging.boi_duong
            union all select submission_id from staging.danh_gia_chuan
            union all select submission_id from staging.lop_boi_duong) staged
        left join dq.submission using (submission_id) where dq.submission.submission_id is null""",
    "staging holds one row per submission and Excel row (append-only, no key since migration 0006)": """
        select count(*) from (
            select submission_id, row_number from staging.truong_lop group by 1, 2 having count(*) > 1
            union all select submission_id, row_number from staging.doi_ngu group by 1, 2 having count(*) > 1
            union all select submission_id, row_number from staging.danh_gia_chuan group by 1, 2 having count(*) > 1
            union all select submission_id, row_number from staging.boi_duong group by 1, 2 having count(*) > 1
            union all select submission_id, row_number from staging.lop_boi_duong group by 1, 2 having count(*) > 1
        ) duplicated""",
    "every fact's school, district, school year, round and submission exist (relationships)": """
        select count(*) from core.fact_school_period f
        left join core.school s using (ma_truong)
        left join core.district d on d.ma_don_vi = f.ma_don_vi
        left join core.school_year y on y.nam_hoc = f.nam_hoc
        left join core.round r on r.ky_bao_cao = f.ky_bao_cao
        left join dq.submission q on q.submission_id = f.submission_id
        where s.ma_truong is null or d.ma_don_vi is null or y.nam_hoc is null or r.ky_bao_cao is null
           or q.submission_id is null""",
    "every district fact and course belongs to its period's current submission (relationships)": """
        select count(*) from (
            select ma_don_vi, nam_hoc, ky_bao_cao, submission_id from core.fact_district_period
            union all select ma_don_vi, nam_hoc, ky_bao_cao, submission_id from core.fact_training_course) f
        left join core.current_submission c using (ma_don_vi, nam_hoc, ky_bao_cao, submission_id)
        where c.submission_id is null""",
    "core holds only current accepted submissions": """
        select count(*) from core.fact_school_period f
        left join core.current_submission c using (ma_don_vi, nam_hoc, ky_bao_cao, submission_id)
        left join dq.submission s on s.submission_id = f.submission_id
        where c.submission_id is null or s.status <> 'accepted'""",
    "every school row of a current submission is in core": """
        select count(*) from core.current_submission c
        join staging.truong_lop t using (submission_id)
        left join core.fact_school_period f on f.submission_id = t.submission_id and f.ma_truong = t.ma_truong
        where f.ma_truong is null""",
    "dq counts match the findings": """
        select count(*) from dq.submission s
        left join (select submission_id, count(*) filter (where severity = 'error') as n_errors,
                          count(*) filter (where severity = 'warning') as n_warnings,
                          count(*) filter (where severity = 'info') as n_infos
                   from dq.issue group by submission_id) i using (submission_id)
        where (s.n_errors, s.n_warnings, s.n_infos)
              is distinct from (coalesce(i.n_errors, 0), coalesce(i.n_warnings, 0), coalesce(i.n_infos, 0))""",
    "province numerators and denominators are the sums of the districts'": """
        select count(*) from mart.province_indicator p
        join (select nam_hoc, ky_bao_cao, indicator, sum(numerator) as numerator, sum(denominator) as denominator
              from mart.district_indicator group by 1, 2, 3) d using (nam_hoc, ky_bao_cao, indicator)
        where p.numerator is distinct from d.numerator or p.denominator is distinct from d.denominator""",
    "district gv_tong is the sum of its schools in core": """
        select count(*) from mart.district_indicator di
        join (select ma_don_vi, nam_hoc, ky_bao_cao, sum(gv_tong) as gv_tong from core.fact_school_period
              group by 1, 2, 3) f using (ma_don_vi, nam_hoc, ky_bao_cao)
        where di.indicator = 'gv_tong' and di.value <> f.gv_tong""",
}


@pytest.fixture
def loaded(engine, settings, tmp_path):
    broken = tmp_path / "hong.xlsx"
    broken.write_bytes(b"not a workbook")
    ingest_files(engine, settings, [*sorted(SAMPLES.glob("*.xlsx")), SAMPLES / "sop-cop_2019-2020_CN.zip", broken])
    rebuild_marts(engine)
    return engine


def test_layers_reconcile(loaded):
    with loaded.connect() as c:
        broken = {check: n for check, sql in CHECKS.items() if (n := c.execute(sa.text(sql)).scalar())}
    assert broken == {}, "rows breaking each check"
    with loaded.connect() as c:
        assert c.execute(sa.text("select count(*) from core.fact_school_period")).scalar() > 20
        assert c.execute(sa.text("select count(*) from dq.issue")).scalar() > 0
        assert c.execute(sa.text("select count(*) from mart.province_indicator")).scalar() > 60
