"""Cross-district outliers after the roll-up, recorded as warnings on the outlying district's submission."""

import sqlalchemy as sa

from etl.history import flag_outliers, previous_school_year
from etl.rollup import rebuild_marts
from tests.etl.test_rollup import write_facts

SIX_DISTRICTS = ["116", "118", "119", "120", "121", "122"]


def test_previous_school_year():
    assert previous_school_year("2020-2021") == "2019-2020"


def test_a_district_far_from_the_others_gets_an_outlier_warning(engine, settings):
    schools = {f"14{d}001": {"ma_don_vi": d, "gv_tong": 20, "gv_tin_hoc": 14 + i % 2, "cbql_tong": 2,
                             "cbql_tin_hoc": 1, "so_lop_mau_giao": 10} for i, d in enumerate(SIX_DISTRICTS)}
    schools["14122001"]["gv_tin_hoc"] = 1  # Phù Yên: almost nobody with an IT certificate
    write_facts(engine, "2019-2020", schools, {d: (100, 100, 30) for d in SIX_DISTRICTS})
    rebuild_marts(engine)
    with engine.connect() as c:
        ids = dict(c.execute(sa.text("select ma_don_vi, submission_id from core.current_submission")).all())
    assert flag_outliers(engine, settings.province_config(), list(ids.values())) >= 1
    with engine.connect() as c:
        found = c.execute(sa.text("select submission_id, severity, rule, message from dq.issue")).all()
    tin_hoc = [f for f in found if "(tin_hoc)" in f.message]
    assert [(f.submission_id, f.severity, f.rule) for f in tin_hoc] == [(ids["122"], "warning", "outlier")]
    assert all(f.submission_id == ids["122"] for f in found), "only the outlying district is flagged"
    assert "có chứng chỉ / được bồi dưỡng tin học" in tin_hoc[0].message


def test_districts_all_close_together_are_not_outliers(engine, settings):
    schools = {f"14{d}001": {"ma_don_vi": d, "gv_tong": 1000, "gv_tin_hoc": 700 + i, "cbql_tong": 0,
                             "so_lop_mau_giao": 400} for i, d in enumerate(SIX_DISTRICTS)}
    schools["14122001"]["gv_tin_hoc"] = 720  # 72 % against a median of 70.2 %: a large z, a trivial gap
    write_facts(engine, "2019-2020", schools, {d: (100, 100, 30) for d in SIX_DISTRICTS})
    rebuild_marts(engine)
    with engine.connect() as c:
        ids = list(c.execute(sa.text("select submission_id from core.current_submission")).scalars())
    assert flag_outliers(engine, settings.province_config(), ids) == 0


def test_outliers_flagged_again_replace_the_first_ones(engine, settings):
    """The roll-up task run twice (Airflow's retry after its XCom was lost, an operator clearing it): the
    outlier warnings are those of one run, not one row per run, and the submission counts them once."""
    schools = {f"14{d}001": {"ma_don_vi": d, "gv_tong": 20, "gv_tin_hoc": 14 + i % 2, "cbql_tong": 2,
                             "cbql_tin_hoc": 1, "so_lop_mau_giao": 10} for i, d in enumerate(SIX_DISTRICTS)}
    schools["14122001"]["gv_tin_hoc"] = 1
    write_facts(engine, "2019-2020", schools, {d: (100, 100, 30) for d in SIX_DISTRICTS})
    rebuild_marts(engine)
    with engine.connect() as c:
        ids = dict(c.execute(sa.text("select ma_don_vi, submission_id from core.current_submission")).all())
    first = flag_outliers(engine, settings.province_config(), list(ids.values()))
    assert flag_outliers(engine, settings.province_config(), list(ids.values())) == first
    with engine.connect() as c:
        found = c.execute(sa.text("select submission_id, message from dq.issue where rule = 'outlier'")).all()
        n_warnings = c.execute(sa.text("select n_warnings from dq.submission where submission_id = :s"),
                               {"s": ids["122"]}).scalar_one()
    assert len(found) == first >= 1
    assert len({m for _, m in found}) == len(found), "each outlier once"
    assert n_warnings == first
