"""The whole job: the published Sơn La baseline reproduced, the demo idempotent, the CLI contract."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from etl.demo import run_demo
from etl.generate import SON_LA_2019_BASELINE, generate_baseline_province
from etl.ingest import ingest_files
from etl.rollup import rebuild_marts
from tests.conftest import ROOT, SAMPLES

# Counts of the published baseline that are not percentages (indicators.md, "Published baseline").
BASELINE_COUNTS = {"so_truong_cong_lap": 215, "so_truong_ngoai_cong_lap": 13, "so_nhom_tre": 465,
                   "so_lop_mau_giao": 3131, "tre_nha_tre": 10318, "tre_mau_giao": 82931, "tre_5_tuoi": 29696}


def province_values(engine, nam_hoc: str, ky: str = "CN") -> dict[str, float | None]:
    with engine.connect() as c:
        rows = c.execute(sa.text("select indicator, value from mart.province_indicator "
                                 "where nam_hoc = :y and ky_bao_cao = :k"), {"y": nam_hoc, "k": ky}).all()
    return {r.indicator: r.value for r in rows}


def test_rollup_reproduces_the_published_son_la_2019_figures(engine, settings, tmp_path):
    files = generate_baseline_province(settings.province_config(), tmp_path / "baseline", seed=3)
    verdicts = ingest_files(engine, settings, files)
    assert {v.status for v in verdicts} == {"accepted"}
    rebuild_marts(engine)
    values = province_values(engine, "2018-2019")
    for indicator, (published, decimals) in SON_LA_2019_BASELINE.items():
        assert round(float(values[indicator]), decimals) == published, indicator
    for indicator, count in BASELINE_COUNTS.items():
        assert values[indicator] == count, indicator


def marts_snapshot(engine) -> list[tuple]:
    with engine.connect() as c:
        return c.execute(sa.text(
            "select 'd', ma_don_vi, nam_hoc, ky_bao_cao, indicator, numerator, denominator, value, target, met "
            "from mart.district_indicator union all "
            "select 'p', null, nam_hoc, ky_bao_cao, indicator, numerator, denominator, value, target, met "
            "from mart.province_indicator order by 1, 2, 3, 4, 5")).all()


@pytest.mark.slow
def test_demo_twice_gives_the_same_marts_and_reingests_nothing(settings):
    from etl import warehouse

    started = time.perf_counter()
    first = run_demo(settings, seed=11)
    first_seconds = time.perf_counter() - started
    engine = warehouse.get_engine(settings)
    before = marts_snapshot(engine)
    started = time.perf_counter()
    second = run_demo(settings, seed=11)
    second_seconds = time.perf_counter() - started
    assert len(first.verdicts) == first.generated and {v.status for v in first.verdicts} == {"accepted"}
    assert second.verdicts == [], "nothing is re-ingested"
    assert marts_snapshot(engine) == before
    assert second_seconds < first_seconds
    assert all(p.exists() for p in second.reports)
    phase = next(p for p in second.reports if p.name == "bao-cao-giai-doan_son-la_2021-2025.csv")
    rows = list(csv.reader(phase.open(encoding="utf-8")))
    assert rows[0][2:7] == ["2020-2021", "2021-2022", "2022-2023", "2023-2024", "2024-2025"]
    gv_kha = next(r for r in rows if r[0] == "gv_kha_tro_len")
    assert all(float(v) > 50 for v in gv_kha[2:7]) and gv_kha[7] == "95.0" and gv_kha[8] in ("Đạt", "Chưa đạt")
    with engine.connect() as c:
        statuses = dict(c.execute(sa.text("select status, count(*) from mart.reporting_status group by 1")).all())
    assert statuses.get("on_time", 0) >= 12 * 7, statuses


def run_cli(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WAREHOUSE_URL": settings.warehouse_url, "TONGHOP_HOME": str(settings.home)}
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_cli_ingest_prints_one_verdict_per_file_and_exits_zero(settings, tmp_path):
    junk = tmp_path / "khong-doc-duoc.xlsx"
    junk.write_bytes(b"not a workbook")
    result = run_cli(settings, "ingest", str(SAMPLES / "quynh-nhai_2019-2020_CN.xlsx"), str(junk))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("accepted") and "118 2019-2020 CN" in lines[0]
    assert lines[1].startswith("rejected") and "khong-doc-duoc.xlsx" in lines[1]
    rollup = run_cli(settings, "rollup")
    assert rollup.returncode == 0 and "mart.province_indicator" in rollup.stdout
    report = run_cli(settings, "report", "--nam-hoc", "2019-2020", "--out", str(tmp_path / "out"))
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "out" / "bao-cao-nam_son-la_2019-2020.xlsx").exists()


def test_cli_says_clearly_what_is_wrong(settings, tmp_path):
    missing = run_cli(settings, "ingest", str(tmp_path / "khong-co.xlsx"))
    assert missing.returncode == 2 and "không tìm thấy" in missing.stderr
    url = run_cli(settings, "warehouse", "url")
    assert url.returncode == 0 and url.stdout.strip().startswith("postgresql://")
    half = run_cli(settings, "ingest", "--nam-hoc", "2019-2020", str(SAMPLES / "quynh-nhai_2019-2020_CN.xlsx"))
    assert half.returncode == 2 and "--ky-bao-cao" in half.stderr
    template = run_cli(settings, "template", "--ma-don-vi", "999", "--out", str(tmp_path / "t.xlsx"))
    assert template.returncode == 2 and "999" in template.stderr
