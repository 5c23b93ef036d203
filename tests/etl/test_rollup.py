"""The roll-up: ratios of sums, NULL on a zero denominator, the standard in force, targets.

Facts are written straight into core here (the reader and validator have their own tests), so these
tests pin the SQL alone."""

from __future__ import annotations

from decimal import Decimal

import hypothesis.strategies as st
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings

from etl.layout import load_layout
from etl.rollup import rebuild_marts

LAYOUT = load_layout()
COUNT_COLUMNS = [k for n in ("TruongLop", "DoiNgu", "DanhGiaChuan", "BoiDuong") for k in LAYOUT.sheets[n].count_keys]
DISTRICT_SCHOOLS = {"118": ["14118001", "14118002", "14118003"], "127": ["14127001", "14127002"],
                    "128": ["14128001"]}


def write_facts(engine, nam_hoc: str, schools: dict[str, dict], populations: dict[str, tuple[int, int, int]],
                ky: str = "CN") -> None:
    """Replace core facts with the given schools ({ma_truong: {ma_don_vi, counts...}}) and district populations."""
    with engine.begin() as c:
        for table in ("fact_school_period", "fact_district_period", "fact_training_course", "current_submission"):
            c.execute(sa.text(f"delete from core.{table}"))
        submission = {}
        for ma_don_vi in populations:
            submission[ma_don_vi] = c.execute(sa.text(
                "insert into dq.submission (file_name, sha256, size_bytes, archive_path, received_at, status, "
                "ma_don_vi, nam_hoc, ky_bao_cao) values ('t.xlsx', md5(random()::text), 1, '/x', now(), "
                "'accepted', :d, :y, :k) returning submission_id"), {"d": ma_don_vi, "y": nam_hoc, "k": ky}).scalar()
            c.execute(sa.text(
                "insert into core.current_submission values (:d, :y, :k, :s)"),
                {"d": ma_don_vi, "y": nam_hoc, "k": ky, "s": submission[ma_don_vi]})
            a, b, five = populations[ma_don_vi]
            c.execute(sa.text(
                "insert into core.fact_district_period (ma_don_vi, nam_hoc, ky_bao_cao, submission_id, "
                "dan_so_0_2, dan_so_3_5, dan_so_5) values (:d, :y, :k, :s, :a, :b, :f)"),
                {"d": ma_don_vi, "y": nam_hoc, "k": ky, "s": submission[ma_don_vi], "a": a, "b": b, "f": five})
        columns = ["ma_truong", "nam_hoc", "ky_bao_cao", "ma_don_vi", "submission_id", "loai_hinh", "dat_chuan_qg",
                   *COUNT_COLUMNS]
        for ma_truong, row in schools.items():
            values = {"ma_truong": ma_truong, "nam_hoc": nam_hoc, "ky_bao_cao": ky,
                      "submission_id": submission[row["ma_don_vi"]], "loai_hinh": "cong_lap",
                      "dat_chuan_qg": row.get("dat_chuan_qg", 0),
                      **{k: row.get(k, 0) for k in COUNT_COLUMNS}, "ma_don_vi": row["ma_don_vi"]}
            c.execute(sa.text(f"insert into core.fact_school_period ({', '.join(columns)}) values "
                              f"({', '.join(':' + k for k in columns)})"), values)


def mart(engine, table: str, **where) -> dict:
    clause = " and ".join(f"{k} = :{k}" for k in where)
    with engine.connect() as c:
        rows = c.execute(sa.text(f"select * from mart.{table} where {clause}"), where).mappings().all()
    key = "indicator"
    if table == "district_indicator":
        return {(r["ma_don_vi"], r[key]): r for r in rows}
    return {r[key]: r for r in rows}


school_counts = st.fixed_dictionaries({
    "so_nhom_tre": st.integers(0, 4), "so_lop_mau_giao": st.integers(0, 12),
    "tre_nha_tre": st.integers(0, 80), "tre_mau_giao": st.integers(0, 300),
    "gv_tong": st.integers(0, 30), "gv_td_cao_dang": st.integers(0, 10), "gv_td_dai_hoc": st.integers(0, 10),
    "gv_duoc_danh_gia": st.integers(0, 30), "gv_tot": st.integers(0, 15), "gv_kha": st.integers(0, 15),
    "cbql_tong": st.integers(0, 4), "cbql_td_dai_hoc": st.integers(0, 4),
    "gv_tin_hoc": st.integers(0, 30), "cbql_tin_hoc": st.integers(0, 4),
})


@pytest.fixture
def marts(engine):
    return engine


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_province_is_the_ratio_of_summed_district_terms(marts, data):
    engine = marts
    schools = {m: {"ma_don_vi": d, **data.draw(school_counts)} for d, ms in DISTRICT_SCHOOLS.items() for m in ms}
    populations = {d: (data.draw(st.integers(0, 900)), data.draw(st.integers(0, 1500)), data.draw(st.integers(0, 500)))
                   for d in DISTRICT_SCHOOLS}
    write_facts(engine, "2019-2020", schools, populations)
    rebuild_marts(engine)
    province = mart(engine, "province_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")
    district = mart(engine, "district_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")
    for indicator, row in province.items():
        num = sum(district[(d, indicator)]["numerator"] for d in DISTRICT_SCHOOLS)
        assert row["numerator"] == num, indicator
        if row["denominator"] is None:
            continue
        den = sum(district[(d, indicator)]["denominator"] for d in DISTRICT_SCHOOLS)
        assert row["denominator"] == den, indicator
        if den == 0:
            assert row["value"] is None, f"{indicator}: a zero denominator gives NULL, not 0"
    expected = sum(s["tre_nha_tre"] for s in schools.values())
    pop = sum(p[0] for p in populations.values())
    assert province["huy_dong_nha_tre"]["value"] == (
        None if pop == 0 else pytest.approx(Decimal(100) * expected / pop, rel=Decimal("1e-12")))


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_moving_a_school_changes_districts_not_the_province(marts, data):
    engine = marts
    schools = {m: {"ma_don_vi": d, **data.draw(school_counts)} for d, ms in DISTRICT_SCHOOLS.items() for m in ms}
    schools["14118003"]["gv_tong"] += 1  # the moved school has teachers, so district gv_tong must change
    populations = {d: (500, 900, 300) for d in DISTRICT_SCHOOLS}
    write_facts(engine, "2019-2020", schools, populations)
    rebuild_marts(engine)
    before_p = mart(engine, "province_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")
    before_d = mart(engine, "district_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")
    schools["14118003"]["ma_don_vi"] = "127"
    write_facts(engine, "2019-2020", schools, populations)
    rebuild_marts(engine)
    after_p = mart(engine, "province_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")
    after_d = mart(engine, "district_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")
    assert {k: (r["numerator"], r["denominator"], r["value"]) for k, r in before_p.items()} == \
           {k: (r["numerator"], r["denominator"], r["value"]) for k, r in after_p.items()}
    assert after_d[("118", "gv_tong")]["value"] < before_d[("118", "gv_tong")]["value"]
    assert after_d[("127", "so_truong")]["value"] == before_d[("127", "so_truong")]["value"] + 1


def test_standard_in_force_switches_in_2020_2021(engine):
    school = {"ma_don_vi": "128", "gv_tong": 10, "gv_td_trung_cap": 2, "gv_td_cao_dang": 5, "gv_td_dai_hoc": 3}
    for nam_hoc, dat, tren, definition in (("2019-2020", 100, 80, "trung_cap_tro_len"),
                                           ("2020-2021", 80, 30, "cao_dang_tro_len")):
        write_facts(engine, nam_hoc, {"14128001": school}, {"128": (10, 10, 10)})
        rebuild_marts(engine)
        p = mart(engine, "province_indicator", nam_hoc=nam_hoc, ky_bao_cao="CN")
        assert p["gv_dat_chuan_td"]["value"] == dat
        assert p["gv_tren_chuan_td"]["value"] == tren
        assert p["gv_dat_chuan_td"]["definition"] == definition
        assert p["gv_cd_tro_len"]["value"] == 80, "gv_cd_tro_len never changes meaning"


def test_thieu_gv_is_per_school_in_exact_decimals(engine):
    # 2.5 * 1 + 2.2 * 3 = 9.1 -> 10 needed; 8 present -> 2 missing. The surplus school offsets nothing.
    schools = {"14118001": {"ma_don_vi": "118", "so_nhom_tre": 1, "so_lop_mau_giao": 3, "gv_tong": 8},
               "14118002": {"ma_don_vi": "118", "so_nhom_tre": 0, "so_lop_mau_giao": 5, "gv_tong": 20}}
    write_facts(engine, "2019-2020", schools, {"118": (10, 10, 10)})
    rebuild_marts(engine)
    assert mart(engine, "province_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")["thieu_gv"]["value"] == 2


def test_targets_of_the_phase_covering_the_year(engine):
    school = {"ma_don_vi": "118", "gv_tong": 10, "gv_duoc_danh_gia": 10, "gv_tot": 5, "gv_kha": 4}
    expectations = {"2018-2019": (90, "2019-2020", True), "2021-2022": (95, "2024-2025", False),
                    "2025-2026": (None, None, None)}
    for nam_hoc, (target, due, met) in expectations.items():
        write_facts(engine, nam_hoc, {"14118001": school}, {"118": (10, 10, 10)})
        rebuild_marts(engine)
        row = mart(engine, "province_indicator", nam_hoc=nam_hoc, ky_bao_cao="CN")["gv_kha_tro_len"]
        assert (row["target"], row["target_nam_hoc"], row["met"]) == (target, due, met), nam_hoc
        district_row = mart(engine, "district_indicator", nam_hoc=nam_hoc, ky_bao_cao="CN")[("118", "gv_kha_tro_len")]
        assert district_row["target"] is None, "province targets do not apply to district rows"


def test_a_changed_target_applies_once_the_configuration_is_loaded(engine, settings, tmp_path):
    """mart.unit_target follows the configuration (etl/registry.py), not the roll-up."""
    import shutil

    from etl.config import ProvinceConfig
    from etl.registry import load_province

    school = {"ma_don_vi": "118", "gv_tong": 10, "gv_duoc_danh_gia": 10, "gv_tot": 5, "gv_kha": 4}
    write_facts(engine, "2021-2022", {"14118001": school}, {"118": (10, 10, 10)})
    rebuild_marts(engine)
    row = mart(engine, "province_indicator", nam_hoc="2021-2022", ky_bao_cao="CN")["gv_kha_tro_len"]
    assert row["target"] == 95
    changed = tmp_path / "son-la"
    shutil.copytree(settings.province_config().folder, changed)
    targets = changed / "targets.csv"
    lines = targets.read_text(encoding="utf-8").splitlines()
    edited = [line.replace(",gv_kha_tro_len,95,", ",gv_kha_tro_len,97,") for line in lines]
    assert edited != lines
    targets.write_text("\n".join(edited) + "\n", encoding="utf-8")
    load_province(engine, ProvinceConfig(changed))  # no roll-up after it
    row = mart(engine, "province_indicator", nam_hoc="2021-2022", ky_bao_cao="CN")["gv_kha_tro_len"]
    assert (row["target"], row["met"]) == (97, False)


def test_every_catalogued_indicator_is_rolled_up(engine):
    write_facts(engine, "2019-2020", {"14118001": {"ma_don_vi": "118", "gv_tong": 3}}, {"118": (1, 1, 1)})
    rebuild_marts(engine)
    with engine.connect() as c:
        catalogue = set(c.execute(sa.text("select indicator from core.indicator")).scalars())
        rolled = set(c.execute(sa.text("select indicator from mart.province_indicator")).scalars())
    assert rolled == catalogue


def unit_sums(engine) -> list[dict]:
    with engine.connect() as c:
        rows = c.execute(sa.text("select * from mart.unit_sums order by unit_type, unit_code, nam_hoc, ky_bao_cao"))
        return [dict(row) for row in rows.mappings()]


def test_the_listed_periods_are_rebuilt_or_every_period_when_none_are_listed(engine):
    schools = {m: {"ma_don_vi": d, "gv_tong": 5} for d, ms in DISTRICT_SCHOOLS.items() for m in ms}
    write_facts(engine, "2019-2020", schools, {d: (10, 10, 10) for d in DISTRICT_SCHOOLS})
    with engine.begin() as c:
        c.execute(sa.text("update core.fact_school_period set loai_hinh = 'tu_thuc' where ma_truong = '14118003'"))
    assert rebuild_marts(engine)["units_rebuilt"] == 4  # three districts and the province
    full = unit_sums(engine)
    province = next(row for row in full if row["unit_type"] == "province")
    assert (province["so_truong"], province["so_truong_cong_lap"], province["so_truong_ngoai_cong_lap"]) == (6, 5, 1)

    assert rebuild_marts(engine, [])["units_rebuilt"] == 0, "an empty list rebuilds nothing (not every period)"
    assert unit_sums(engine) == full
    with engine.begin() as c:
        c.execute(sa.text("update core.fact_school_period set gv_tong = 9 where ma_truong = '14127001'"))
    assert rebuild_marts(engine, [("2020-2021", "CN")])["units_rebuilt"] == 0
    assert unit_sums(engine) == full, "another period's roll-up leaves this one as it was"
    assert rebuild_marts(engine, [("2019-2020", "CN")])["units_rebuilt"] == 4
    partial = unit_sums(engine)
    assert partial != full
    rebuild_marts(engine)
    assert unit_sums(engine) == partial, "rebuilding the changed period gives what a full rebuild gives"

    with engine.begin() as c:  # the period's submissions withdrawn: no current facts any more
        for table in ("fact_school_period", "fact_district_period", "fact_training_course", "current_submission"):
            c.execute(sa.text(f"delete from core.{table}"))
    rebuild_marts(engine)
    assert unit_sums(engine) == [], "a period without current facts is rebuilt to nothing"


def test_two_rebuilds_at_once_run_one_after_the_other(engine):
    """`tonghop rollup` typed while the nightly task rebuilds the same periods: the later one's delete could not
    see the earlier one's new rows and its insert failed on the primary key. Both wait at one point here (a row
    of district_sums held by a third session), so that without the rebuilds' lock both would be inside."""
    import threading
    import time

    schools = {"14118001": {"ma_don_vi": "118", "gv_tong": 10, "gv_td_cao_dang": 5}}
    write_facts(engine, "2019-2020", schools, {"118": (10, 10, 10)})
    rebuild_marts(engine)
    failures: list[BaseException] = []

    def rebuild() -> None:
        try:
            rebuild_marts(engine, [("2019-2020", "CN")])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    with engine.connect() as holder:
        holder.exec_driver_sql("begin")
        holder.exec_driver_sql("select * from mart.district_sums for update")
        threads = [threading.Thread(target=rebuild) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)  # both rebuilds reach the held row (or the rebuilds' lock)
        holder.exec_driver_sql("commit")
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from mart.district_sums where nam_hoc = '2019-2020'")).scalar() == 1


def test_a_changed_staffing_norm_applies_to_every_period_once_the_configuration_is_loaded(engine, settings,
                                                                                           tmp_path):
    """thieu_gv is summed with the norm when a period is rolled up, and the nightly roll-up rebuilds only the
    periods that received files: after a norm change the old periods kept the old norm's shortage (and a
    province chart mixed two norms) until a full `tonghop rollup`."""
    import shutil

    from etl.config import ProvinceConfig
    from etl.registry import load_province

    school = {"ma_don_vi": "118", "so_nhom_tre": 2, "so_lop_mau_giao": 0, "gv_tong": 5}
    write_facts(engine, "2019-2020", {"14118001": school}, {"118": (10, 10, 10)})
    rebuild_marts(engine)
    assert mart(engine, "district_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")[("118", "thieu_gv")][
        "value"] == 0  # 2 groups x 2.5 = 5 teachers needed
    changed = tmp_path / "son-la"
    shutil.copytree(settings.province_config().folder, changed)
    yaml = changed / "province.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace('gv_per_nhom_tre: "2.5"', 'gv_per_nhom_tre: "3"'),
                    encoding="utf-8")
    load_province(engine, ProvinceConfig(changed))  # no roll-up after it
    assert mart(engine, "district_indicator", nam_hoc="2019-2020", ky_bao_cao="CN")[("118", "thieu_gv")][
        "value"] == 1  # 2 x 3 = 6 needed, 5 there


def test_a_night_whose_rollup_failed_is_rolled_up_by_the_next_rollup(engine, settings, tmp_path):
    """The nightly roll-up rebuilds only the periods of its own accepted files. When a night's ingest had
    committed and its roll-up task then failed (the warehouse restarted, the worker killed), the files were
    out of the landing folder and in core, and no later night rebuilt their period unless it received a file
    of the same period: the marts kept the old figures without a word."""
    from etl.generate import generate_district_workbook
    from etl.ingest import ingest_files

    path = generate_district_workbook(settings.province_config(), "127", "2019-2020", "CN", tmp_path / "a.xlsx",
                                      seed=1)
    assert [v.status for v in ingest_files(engine, settings, [path])] == ["accepted"]  # no roll-up after it
    assert rebuild_marts(engine, [("2020-2021", "CN")])["units_rebuilt"] == 2  # the next night: another period
    with engine.connect() as c:
        mart_value, core_value = c.execute(sa.text(
            "select value, (select sum(gv_tong) from core.fact_school_period) from mart.district_indicator "
            "where ma_don_vi = '127' and nam_hoc = '2019-2020' and ky_bao_cao = 'CN' and indicator = 'gv_tong'"
        )).one()
        waiting = c.execute(sa.text("select count(*) from mart.period_to_roll_up")).scalar()
    assert (mart_value, waiting) == (core_value, 0)
    assert rebuild_marts(engine, [])["units_rebuilt"] == 0, "nothing waits once it is rolled up"
