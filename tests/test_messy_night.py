"""A messy Sơn La province night end to end, checked number by number against the truth.

Every district's workbooks of several school years and both rounds are generated (etl/generate.py), then
rewritten as clerks send them (tests/messy.py: NFD labels, spacer and STT columns, title rows, totals
rows, numbers as text with thousands separators, codes with apostrophes or `.0`, renamed and reordered
sheets, a hidden stale copy of a sheet, the CSV-zip variant...), with a correction, a rejected file and a
duplicate among them, and ingested by the real tonghop_nightly DAG in-process; a second night brings more
corrections. After each night every core.fact_school_period row, every district and province indicator
(numerator, denominator, value) and every figure of the annual reports' CSV must equal what
tests/messy.py computes in Python from the generator's clean numbers. No number is written here.

TONGHOP_MESSY_SEED=<n> draws another night (the seed is in the failure message).
"""

from __future__ import annotations

import copy
import csv
import os
import random
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from etl.generate import generate_district_workbook
from tests.dags.conftest import airflow_db  # noqa: F401 - the DAG runs need Airflow's metadata database
from tests.messy import (
    Clean,
    differences,
    fact_differences,
    read_clean,
    truth_facts,
    truth_marts,
    write_messy,
)

SEED = int(os.environ.get("TONGHOP_MESSY_SEED", "20"))
# both sides of the qualification standard's change (2020-2021) and of rank IV's abolition (2021-2022), both rounds
PERIODS = (("2019-2020", "CN"), ("2020-2021", "HKI"), ("2020-2021", "CN"), ("2021-2022", "CN"))
YEARS = ("2019-2020", "2020-2021", "2021-2022")


class Night:
    """A landing folder filled in order of arrival (each file a minute after the one before)."""

    def __init__(self, landing: Path, start: int) -> None:
        self.landing, self.clock, self.names = landing, start, []

    def put(self, rng: random.Random, clean: Clean, stem: str) -> Path:
        suffix = ".zip" if rng.random() < 0.2 else ".xlsx"
        return self.arrive(write_messy(rng, clean, self.landing / f"{stem}{suffix}"))

    def copy(self, source: Path, name: str) -> Path:
        """The same bytes under another name."""
        target = self.landing / f"{name}{source.suffix}"
        target.write_bytes(source.read_bytes())
        return self.arrive(target)

    def arrive(self, path: Path) -> Path:
        self.clock += 60
        os.utime(path, (self.clock, self.clock))
        self.names.append(path.name)
        return path


def broken(clean: Clean) -> Clean:
    """The same submission with one school's teachers no longer the sum of their qualifications (an error)."""
    out = copy.deepcopy(clean)
    out.tables["DoiNgu"][0]["gv_tong"] += 3
    return out


def run_night(settings) -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag().get_dag("tonghop_nightly")
    for t in dag.tasks:
        t.retries = 0  # a failure must fail the test now
    assert dag.test().state == "success"
    assert list(settings.landing_dir.iterdir()) == [], "every file got a verdict"


def check_against_truth(engine, settings, current: dict[tuple[str, str, str], Clean], norms) -> None:
    with engine.connect() as c:
        facts = {(r["ma_truong"], r["nam_hoc"], r["ky_bao_cao"]): r for r in
                 c.execute(sa.text("select * from core.fact_school_period")).mappings()}
        district = {(r.ma_don_vi, r.nam_hoc, r.ky_bao_cao, r.indicator): (r.numerator, r.denominator, r.value)
                    for r in c.execute(sa.text("select * from mart.district_indicator"))}
        province = {(r.nam_hoc, r.ky_bao_cao, r.indicator): (r.numerator, r.denominator, r.value)
                    for r in c.execute(sa.text("select * from mart.province_indicator"))}
    want_district, want_province = truth_marts(current, norms)
    assert fact_differences(facts, truth_facts(current)) == [], f"seed {SEED}"
    assert differences(district, want_district) == [], f"seed {SEED}"
    assert differences(province, want_province) == [], f"seed {SEED}"
    reports = sorted(settings.reports_dir.glob("bao-cao-nam_son-la_*.csv"))
    assert [p.stem[-9:] for p in reports] == list(YEARS)
    for path in reports:
        nam_hoc = path.stem[-9:]
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        got = {(nam_hoc, "CN", r["indicator"]): (r["numerator"], r["denominator"], r["value"]) for r in rows}
        want = {k: v for k, v in want_province.items() if k[:2] == (nam_hoc, "CN")}
        assert differences(got, want) == [], f"{path.name}, seed {SEED}"
        assert {(r["n_districts"], r["n_districts_expected"]) for r in rows} == {("12", "12")}


def test_a_messy_province_night_and_its_corrections_match_the_truth(airflow_db, settings, use_settings,  # noqa: F811
                                                                   monkeypatch, tmp_path):
    from etl import ingest, warehouse

    rng = random.Random(SEED)
    # several chunks: a correction published by a later chunk than its first version, two written at a time
    monkeypatch.setattr(ingest, "CHUNK_SIZE", rng.choice([9, 20, 100]))
    province = settings.province_config()
    norms = (Decimal(province.meta["norms"]["gv_per_nhom_tre"]), Decimal(province.meta["norms"]["gv_per_lop_mau_giao"]))
    districts = [d["ma_don_vi"] for d in province.districts]
    clean_dir = tmp_path / "clean"

    def clean(ma: str, nam_hoc: str, ky: str, seed: int = 0) -> Clean:
        path = clean_dir / f"{ma}_{nam_hoc}_{ky}_{seed}.xlsx"
        return read_clean(generate_district_workbook(province, ma, nam_hoc, ky, path, seed=seed))

    landing = settings.landing_dir
    landing.mkdir(parents=True)
    use_settings(settings)
    corrected, rejected, copied, late_fix, refused = rng.sample(districts, 5)

    # night 1: every district's every period, in random order, with a correction, a rejected file, a copy
    night = Night(landing, 1_591_000_000)
    current: dict[tuple[str, str, str], Clean] = {}
    periods = [(ma, nam, ky) for ma in districts for nam, ky in PERIODS]
    rng.shuffle(periods)
    first_version: Path | None = None
    for ma, nam, ky in periods:
        current[(ma, nam, ky)] = clean(ma, nam, ky)
        path = night.put(rng, current[(ma, nam, ky)], f"{ma}_{nam}_{ky}")
        if (ma, nam, ky) == (corrected, "2020-2021", "CN"):
            first_version = tmp_path / path.name
            first_version.write_bytes(path.read_bytes())
    current[(corrected, "2020-2021", "CN")] = clean(corrected, "2020-2021", "CN", seed=1)
    night.put(rng, current[(corrected, "2020-2021", "CN")], f"{corrected}_sua")
    night.put(rng, broken(clean(rejected, "2021-2022", "CN", seed=1)), f"{rejected}_lan2")
    original = next(landing.glob(f"{copied}_2019-2020_CN.*"))
    night.copy(original, "gui-lai")
    run_night(settings)

    engine = warehouse.get_engine(settings)
    with engine.connect() as c:
        status = dict(c.execute(sa.text("select file_name, status from dq.submission")).all())
    assert sorted(status.values()).count("accepted") == len(periods), f"seed {SEED}: {status}"
    assert [s for name, s in status.items() if name.startswith(f"{rejected}_lan2")] == ["rejected"]
    assert status[f"gui-lai{original.suffix}"] == "duplicate"
    with engine.connect() as c:
        alarms = c.execute(sa.text(
            "select s.file_name, i.rule, i.sheet, i.row_number, i.column_key, i.message from dq.issue i "
            "join dq.submission s using (submission_id) where s.status = 'accepted' and i.severity <> 'info' "
            # outliers judge the generator's spread between districts, not how a file is written; the corrected
            # district's correction is another seed's numbers, rightly far from its other years
            "and i.rule <> 'outlier' and not (s.ma_don_vi = :corrected and i.rule = 'yoy_change')"),
            {"corrected": corrected}).all()
    assert alarms == [], f"seed {SEED}: a correct file, however written, gets no warning"
    check_against_truth(engine, settings, current, norms)

    # night 2: the superseded first version sent again, a late correction, a period that only gets a rejected file
    night = Night(landing, night.clock + 86_400)
    assert first_version is not None
    night.copy(first_version, "ban-cu")
    current[(late_fix, "2021-2022", "CN")] = clean(late_fix, "2021-2022", "CN", seed=2)
    night.put(rng, current[(late_fix, "2021-2022", "CN")], f"{late_fix}_bo-sung")
    night.put(rng, broken(clean(refused, "2020-2021", "HKI", seed=3)), f"{refused}_hki")
    run_night(settings)
    with engine.connect() as c:
        status = dict(c.execute(sa.text("select file_name, status from dq.submission")).all())
    assert status[f"ban-cu{first_version.suffix}"] == "duplicate"
    assert [s for name, s in status.items() if name.startswith(f"{late_fix}_bo-sung")] == ["accepted"]
    assert [s for name, s in status.items() if name.startswith(f"{refused}_hki")] == ["rejected"]
    check_against_truth(engine, settings, current, norms)
