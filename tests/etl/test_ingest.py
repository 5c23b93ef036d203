"""Ingest end to end on a real warehouse: the shared samples, verdicts, duplicates, resubmissions, locks."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import random
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

import etl.ingest
from etl.generate import generate_district_workbook
from etl.ingest import ingest_files, ingest_landing
from etl.locks import LockError, lock_period, unlock_period
from etl.registry import load_province
from tests.conftest import SAMPLES

EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
SAMPLE_FILES = [f["file"] for f in EXPECTED["files"]]


def staged_totals(engine, submission_id: int) -> dict[str, int]:
    """District totals of one submission as staged (every count column of the four school sheets)."""
    with engine.connect() as c:
        columns = [r for r in c.execute(sa.text(
            "select column_name from information_schema.columns where table_schema = 'core' "
            "and table_name = 'fact_school_period' and data_type = 'integer'")).scalars()]
        frame = c.execute(sa.text(
            f"select {', '.join(f'sum({x})' for x in columns)}, count(*), sum(dat_chuan_qg) "
            "from core.fact_school_period where submission_id = :s"), {"s": submission_id}).one()
    return {**dict(zip(columns, frame[:-2], strict=True)), "so_truong": frame[-2], "dat_chuan_qg": frame[-1]}


def test_shared_samples_ingest_as_their_readme_says(engine, settings, tmp_path):
    # One file at a time, so each is current when checked (the .xlsx and .zip of Sốp Cộp are the same period).
    for sample in EXPECTED["files"]:
        verdict, = ingest_files(engine, settings, [SAMPLES / sample["file"]])
        assert verdict.status == "accepted", (sample["file"], verdict)
        assert (verdict.ma_don_vi, verdict.nam_hoc, verdict.ky_bao_cao) == (
            sample["ma_don_vi"], sample["nam_hoc"], sample["ky_bao_cao"])
        totals = staged_totals(engine, verdict.submission_id)
        for key, value in sample["district_totals"].items():
            assert totals[key] == value, (sample["file"], key)
        with engine.connect() as c:
            courses = c.execute(sa.text(
                "select count(*), coalesce(sum(so_hoc_vien), 0), coalesce(sum(kinh_phi), 0) "
                "from core.fact_training_course where submission_id = :s"), {"s": verdict.submission_id}).one()
            population = c.execute(sa.text(
                "select dan_so_0_2, dan_so_3_5, dan_so_5 from core.fact_district_period where submission_id = :s"),
                {"s": verdict.submission_id}).one()
        assert courses[0] == sample["courses"]["n"]
        assert courses[1] == sample["courses"]["so_hoc_vien"]
        assert float(courses[2]) == pytest.approx(float(sample["courses"]["kinh_phi"]))
        info = sample["thongtin"]
        assert tuple(population) == (info["dan_so_0_2"], info["dan_so_3_5"], info["dan_so_5"])
    with engine.connect() as c:
        statuses = dict(c.execute(sa.text("select file_name || '#' || submission_id, status from dq.submission")).all())
    assert sorted(statuses.values()) == ["accepted", "accepted", "accepted", "accepted", "superseded"]


def test_every_file_is_archived_byte_for_byte_and_duplicates_are_not_processed(engine, settings):
    first, = ingest_files(engine, settings, [SAMPLES / "van-ho_2019-2020_HKI.xlsx"])
    again, = ingest_files(engine, settings, [SAMPLES / "van-ho_2019-2020_HKI.xlsx"])
    assert first.status == "accepted" and again.status == "duplicate"
    with engine.connect() as c:
        rows = c.execute(sa.text(
            "select submission_id, archive_path, sha256, duplicate_of, status from dq.submission order by 1")).all()
        staged = c.execute(sa.text("select count(distinct submission_id) from staging.truong_lop")).scalar()
    assert rows[1].duplicate_of == rows[0].submission_id
    assert staged == 1, "a duplicate is recorded but not processed again"
    archived = Path(rows[0].archive_path).read_bytes()
    assert archived == (SAMPLES / "van-ho_2019-2020_HKI.xlsx").read_bytes()


def break_sum_rule(path, tmp_path):
    """A copy of a valid workbook whose first school's gv_tong no longer equals its qualification sum."""
    out = tmp_path / ("broken_" + path.name)
    book = openpyxl.load_workbook(path)
    sheet = book["DoiNgu"]
    header = next(r for r in sheet.iter_rows(min_row=1, max_row=15) if any(c.value == "gv_tong" for c in r))
    column = next(c.column for c in header if c.value == "gv_tong")
    cell = sheet.cell(row=header[0].row + 1, column=column)
    cell.value = int(cell.value) + 3
    book.save(out)
    return out, cell.row


def test_resubmissions_supersede_and_a_rejected_one_changes_nothing(engine, settings, tmp_path):
    province = settings.province_config()
    v1 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "v1.xlsx", seed=1)
    v2 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "v2.xlsx", seed=2)
    bad, bad_row = break_sum_rule(v2, tmp_path)
    first, = ingest_files(engine, settings, [v1])
    second, = ingest_files(engine, settings, [v2])
    third, = ingest_files(engine, settings, [bad])
    assert (first.status, second.status, third.status) == ("accepted", "accepted", "rejected")
    with engine.connect() as c:
        status = dict(c.execute(sa.text("select submission_id, status from dq.submission")).all())
        current = c.execute(sa.text("select submission_id from core.current_submission")).scalar()
        in_core = set(c.execute(sa.text("select distinct submission_id from core.fact_school_period")).scalars())
        issue = c.execute(sa.text(
            "select severity, rule, sheet, row_number, column_key from dq.issue where submission_id = :s "
            "and severity = 'error'"), {"s": third.submission_id}).all()
    assert status == {first.submission_id: "superseded", second.submission_id: "accepted",
                      third.submission_id: "rejected"}
    assert current == second.submission_id and in_core == {second.submission_id}
    assert ("error", "sum_mismatch", "DoiNgu", bad_row, "gv_tong") in [tuple(i) for i in issue]
    assert (settings.quarantine_dir / f"{third.submission_id}_{bad.name}").exists()


def test_a_school_moved_to_another_district_belongs_to_each_in_its_own_years(engine, settings, tmp_path):
    # From 2020-2021 Trường Mầm non Vân Hồ (14128001) belongs to Sốp Cộp (127), keeping its code: the
    # registry closes its Vân Hồ row that year and opens a Sốp Cộp row.
    config = tmp_path / "config"
    shutil.copytree(settings.config_dir, config)
    schools = config / "provinces" / "son-la" / "schools.csv"
    text = schools.read_text(encoding="utf-8")
    old = "14128001,Trường Mầm non Vân Hồ,128,cong_lap,2010-2011,\n"
    assert old in text
    schools.write_text(text.replace(old, old.replace(",\n", ",2020-2021\n"))
                       + "14128001,Trường Mầm non Vân Hồ,127,cong_lap,2020-2021,\n", encoding="utf-8")
    before = settings.province_config()
    moved = dataclasses.replace(settings, config_dir=config)
    province = moved.province_config()
    load_province(engine, province)
    files = [generate_district_workbook(province, d, y, "CN", tmp_path / f"{d}_{y}.xlsx", seed=1)
             for d, y in (("127", "2020-2021"), ("128", "2020-2021"), ("128", "2019-2020"))]
    # Vân Hồ's clerk, unaware of the move, still lists the school in 2020-2021
    stale = generate_district_workbook(before, "128", "2020-2021", "CN", tmp_path / "128_cu.xlsx", seed=1)
    verdicts = [v for path in [*files, stale] for v in ingest_files(engine, moved, [path])]
    assert [(v.ma_don_vi, v.nam_hoc, v.status) for v in verdicts] == [
        ("127", "2020-2021", "accepted"), ("128", "2020-2021", "accepted"), ("128", "2019-2020", "accepted"),
        ("128", "2020-2021", "rejected")]
    with engine.connect() as c:
        owners = c.execute(sa.text("select nam_hoc, ma_don_vi from core.fact_school_period "
                                   "where ma_truong = '14128001' order by nam_hoc")).all()
        errors = c.execute(sa.text("select distinct rule, column_key, value from dq.issue "
                                   "where submission_id = :s and severity = 'error'"),
                           {"s": verdicts[-1].submission_id}).all()
        registered = c.execute(sa.text("select ma_don_vi from core.school where ma_truong = '14128001'")).scalar()
    assert [tuple(o) for o in owners] == [("2019-2020", "128"), ("2020-2021", "127")]
    assert [tuple(e) for e in errors] == [("unknown_school", "ma_truong", "14128001")]
    assert registered == "127", "core.school holds the school's latest row"


def test_a_locked_period_holds_new_files_until_unlocked_with_a_reason(engine, settings, tmp_path):
    province = settings.province_config()
    v1 = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "v1.xlsx", seed=1)
    v2 = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "v2.xlsx", seed=2)
    first, = ingest_files(engine, settings, [v1])
    lock_period(engine, "2019-2020", "CN", reason="đã báo cáo UBND tỉnh")
    held, = ingest_files(engine, settings, [v2])
    assert held.status == "held"
    with engine.connect() as c:
        assert c.execute(sa.text("select submission_id from core.current_submission")).scalar() == first.submission_id
    with pytest.raises(LockError):
        unlock_period(engine, "2019-2020", "CN", reason="  ")
    assert unlock_period(engine, "2019-2020", "CN", reason="Phòng GD&ĐT Sốp Cộp gửi lại số liệu đúng") == [
        held.submission_id]
    with engine.connect() as c:
        assert c.execute(sa.text("select submission_id from core.current_submission")).scalar() == held.submission_id
        reason = c.execute(sa.text("select unlock_reason from dq.period_lock")).scalar()
    assert reason.startswith("Phòng GD&ĐT Sốp Cộp")


def test_an_unreadable_file_gets_a_verdict_and_the_batch_goes_on(engine, settings, tmp_path):
    junk = tmp_path / "hong.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    good = tmp_path / "good.xlsx"
    shutil.copyfile(SAMPLES / "van-ho_2019-2020_CN.xlsx", good)
    verdicts = ingest_files(engine, settings, [junk, good])
    assert [v.status for v in verdicts] == ["rejected", "accepted"]
    with engine.connect() as c:
        rule, message = c.execute(sa.text("select rule, message from dq.issue where submission_id = :s"),
                                  {"s": verdicts[0].submission_id}).one()
    assert rule == "unreadable_file" and "Tệp" in message


def test_a_mistyped_school_year_is_rejected_and_the_batch_goes_on(engine, settings, tmp_path):
    # 2091-2092 for 2019-2020: not a school year the warehouse holds (core.school_year); publishing it
    # failed the whole chunk (foreign key) and no file of the night got a verdict
    typo = tmp_path / "nam-hoc-go-nham.xlsx"
    shutil.copyfile(SAMPLES / "van-ho_2019-2020_CN.xlsx", typo)
    book = openpyxl.load_workbook(typo)
    year_cell = next(c for r in book["ThongTin"].iter_rows(min_row=1, max_row=30) for c in r if c.value == "2019-2020")
    year_cell.value = "2091-2092"
    book.save(typo)
    good = tmp_path / "good.xlsx"
    shutil.copyfile(SAMPLES / "van-ho_2019-2020_CN.xlsx", good)
    verdicts = ingest_files(engine, settings, [typo, good])
    assert [v.status for v in verdicts] == ["rejected", "accepted"]
    with engine.connect() as c:
        issues = c.execute(sa.text("select severity, rule, column_key, value from dq.issue where submission_id = :s "
                                   "and severity = 'error'"), {"s": verdicts[0].submission_id}).all()
    assert [tuple(i) for i in issues] == [("error", "wrong_period", "nam_hoc", "2091-2092")]


def test_a_round_being_received_rejects_a_file_for_another_period(engine, settings, tmp_path):
    # `tonghop ingest --nam-hoc 2020-2021 --ky-bao-cao CN`: a 2019-2020 file is for another period
    sample = tmp_path / "van-ho.xlsx"
    shutil.copyfile(SAMPLES / "van-ho_2019-2020_CN.xlsx", sample)
    verdicts = ingest_files(engine, settings, [sample], expected_period=("2020-2021", "CN"))
    assert [v.status for v in verdicts] == ["rejected"]
    with engine.connect() as c:
        issues = c.execute(sa.text("select rule, column_key, message from dq.issue where submission_id = :s "
                                   "and severity = 'error'"), {"s": verdicts[0].submission_id}).all()
    assert [(rule, key) for rule, key, _ in issues] == [("wrong_period", "nam_hoc")]
    assert "năm học 2020-2021, kỳ CN" in issues[0][2]


def test_a_district_total_changing_by_more_than_30_percent_is_a_warning(engine, settings, tmp_path):
    province = settings.province_config()
    last_year = generate_district_workbook(province, "128", "2018-2019", "CN", tmp_path / "a.xlsx", seed=1)
    this_year = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "b.xlsx", seed=1)
    book = openpyxl.load_workbook(this_year)
    sheet = book["DoiNgu"]
    header = next(r for r in sheet.iter_rows(min_row=1, max_row=15) if any(c.value == "nv_tong" for c in r))
    column = next(c.column for c in header if c.value == "nv_tong")
    for row in range(header[0].row + 1, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value is not None:
            sheet.cell(row=row, column=column).value = 40  # support staff tripled everywhere
    book.save(this_year)
    ingest_files(engine, settings, [last_year])
    verdict, = ingest_files(engine, settings, [this_year])
    assert verdict.status == "accepted" and verdict.n_warnings >= 1
    with engine.connect() as c:
        issues = c.execute(sa.text("select severity, rule, sheet, column_key from dq.issue "
                                   "where submission_id = :s and rule = 'yoy_change'"),
                           {"s": verdict.submission_id}).all()
    assert ("warning", "yoy_change", "DoiNgu", "nv_tong") in [tuple(i) for i in issues]
    assert len(issues) < 5, "only the columns that really moved"


def triple_column(path, sheet_name: str, key: str) -> None:
    """Multiply one count column of every school row by three, in place."""
    book = openpyxl.load_workbook(path)
    sheet = book[sheet_name]
    header = next(r for r in sheet.iter_rows(min_row=1, max_row=15) if any(c.value == key for c in r))
    column = next(c.column for c in header if c.value == key)
    for row in range(header[0].row + 1, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value is not None:
            sheet.cell(row=row, column=column).value = 3 * int(sheet.cell(row=row, column=column).value)
    book.save(path)


def yoy_issues(engine) -> list[tuple]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(
            "select submission_id, column_key, value from dq.issue where rule = 'yoy_change' order by 1, 2"))]


def test_a_correction_of_last_year_sent_with_this_years_file_is_compared_year_by_year(engine, settings, tmp_path):
    # Night 1: last year's CN with its support staff tripled (a typo the district found later).
    province = settings.province_config()
    wrong = generate_district_workbook(province, "127", "2018-2019", "CN", tmp_path / "2019_sai.xlsx", seed=1)
    triple_column(wrong, "DoiNgu", "nv_tong")
    ingest_files(engine, settings, [wrong])
    # Night 2: the corrected last year and this year, together. The correction is no year-on-year change of
    # itself (it was compared with its own wrong version, as "the previous school year"), and this year's
    # file is compared with the corrected last year that the same night makes current, not the wrong one.
    corrected = generate_district_workbook(province, "127", "2018-2019", "CN", tmp_path / "2019_sua.xlsx", seed=1)
    this_year = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "2020.xlsx", seed=1)
    os.utime(corrected, (1_700_000_000, 1_700_000_000))
    os.utime(this_year, (1_700_000_100, 1_700_000_100))
    verdicts = ingest_files(engine, settings, [corrected, this_year])
    assert [(v.file_name, v.status, v.n_warnings) for v in verdicts] == [
        ("2019_sua.xlsx", "accepted", 0), ("2020.xlsx", "accepted", 0)]
    assert yoy_issues(engine) == []


def test_a_backfill_of_two_years_in_one_night_compares_the_later_with_the_earlier(engine, settings, tmp_path):
    province = settings.province_config()
    earlier = generate_district_workbook(province, "127", "2018-2019", "CN", tmp_path / "a.xlsx", seed=1)
    later = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "b.xlsx", seed=1)
    triple_column(later, "DoiNgu", "nv_tong")
    os.utime(earlier, (1_700_000_000, 1_700_000_000))
    os.utime(later, (1_700_000_100, 1_700_000_100))
    first, second = ingest_files(engine, settings, [earlier, later])
    with engine.connect() as c:
        staff = c.execute(sa.text("select sum(nv_tong) from core.fact_school_period where submission_id = :s"),
                          {"s": second.submission_id}).scalar()
    assert yoy_issues(engine) == [(second.submission_id, "nv_tong", str(staff))]


def test_the_same_bytes_twice_in_one_batch_is_one_submission_and_one_duplicate(engine, settings, tmp_path):
    copy = tmp_path / "gui-lai.xlsx"
    shutil.copyfile(SAMPLES / "van-ho_2019-2020_CN.xlsx", copy)
    verdicts = ingest_files(engine, settings, [SAMPLES / "van-ho_2019-2020_CN.xlsx", copy])
    assert {v.file_name: v.status for v in verdicts} == {"van-ho_2019-2020_CN.xlsx": "accepted",
                                                         "gui-lai.xlsx": "duplicate"}


def test_a_run_of_several_chunks_reports_in_arrival_order_and_the_latest_version_wins(engine, settings, tmp_path,
                                                                                       monkeypatch):
    # chunks of 2: each chunk is staged while the previous one publishes (etl.pipeline)
    monkeypatch.setattr("etl.ingest.CHUNK_SIZE", 2)
    province = settings.province_config()
    v1 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "a_v1.xlsx", seed=1)
    other = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "b_other.xlsx", seed=3)
    junk = tmp_path / "c_junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    v2 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "d_v2.xlsx", seed=2)
    copy_of_v1 = tmp_path / "e_copy_of_v1.xlsx"
    shutil.copyfile(v1, copy_of_v1)
    v3 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "f_v3.xlsx", seed=4)
    files = [v1, other, junk, v2, copy_of_v1, v3]
    for i, path in enumerate(files):
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    progress = []
    verdicts = ingest_files(engine, settings, files, on_progress=lambda done, total: progress.append(done))
    assert [(v.file_name, v.status) for v in verdicts] == [
        ("a_v1.xlsx", "accepted"), ("b_other.xlsx", "accepted"), ("c_junk.xlsx", "rejected"),
        ("d_v2.xlsx", "accepted"), ("e_copy_of_v1.xlsx", "duplicate"), ("f_v3.xlsx", "accepted")]
    assert progress == [2, 4, 6]  # after each chunk: files with a verdict so far
    by_name = {v.file_name: v.submission_id for v in verdicts}
    with engine.connect() as c:
        status = dict(c.execute(sa.text("select file_name, status from dq.submission")).all())
        current = dict(c.execute(sa.text("select ma_don_vi, submission_id from core.current_submission")).all())
        in_core = set(c.execute(sa.text("select distinct submission_id from core.fact_school_period")).scalars())
    assert status == {"a_v1.xlsx": "superseded", "b_other.xlsx": "accepted", "c_junk.xlsx": "rejected",
                      "d_v2.xlsx": "superseded", "e_copy_of_v1.xlsx": "duplicate", "f_v3.xlsx": "accepted"}
    assert current == {"128": by_name["f_v3.xlsx"], "127": by_name["b_other.xlsx"]}
    assert in_core == {by_name["f_v3.xlsx"], by_name["b_other.xlsx"]}
    assert (settings.quarantine_dir / f"{by_name['c_junk.xlsx']}_c_junk.xlsx").exists()


def test_every_file_a_district_sends_gets_a_verdict_and_lock_hidden_and_partial_files_wait(engine, settings):
    landing = settings.landing_dir
    (landing / "Quynh Nhai").mkdir(parents=True)
    (landing / ".stversions").mkdir()
    shutil.copyfile(SAMPLES / "quynh-nhai_2019-2020_CN.xlsx", landing / "Quynh Nhai" / "bao-cao.xlsm")
    (landing / "cu.xls").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504)
    (landing / "ban-ky.pdf").write_bytes(b"%PDF-1.7 scanned signature page")
    with zipfile.ZipFile(landing / "so-lieu.ods", "w") as ods:
        ods.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        ods.writestr("content.xml", "<office:document-content/>")
    waiting = [landing / "~$bao-cao.xlsx", landing / ".~lock.so-lieu.ods#", landing / "Thumbs.db",
               landing / "dang-tai.xlsx.part", landing / ".stversions" / "cu.xlsx"]
    for path in waiting:
        path.write_bytes(b"not yet, or not a submission")
    verdicts = {v.file_name: v for v in ingest_landing(engine, settings)}
    assert {name: v.status for name, v in verdicts.items()} == {
        "bao-cao.xlsm": "accepted", "cu.xls": "rejected", "ban-ky.pdf": "rejected", "so-lieu.ods": "rejected"}
    with engine.connect() as c:
        messages = dict(c.execute(sa.text(
            "select s.file_name, i.message from dq.issue i join dq.submission s using (submission_id) "
            "where i.rule = 'unreadable_file'")).all())
        archived = c.execute(sa.text("select count(*) from dq.submission where archive_path <> ''")).scalar()
    assert "(.xls)" in messages["cu.xls"] and "PDF" in messages["ban-ky.pdf"]
    assert "OpenDocument" in messages["so-lieu.ods"] and ".xlsx" in messages["so-lieu.ods"]
    assert archived == 4
    assert sorted(p for p in landing.rglob("*") if p.is_file()) == sorted(waiting)


def _archived_bytes_match_their_sha(settings) -> list[tuple[str, str]]:
    """(sha of the archive folder, sha of the bytes in it) for every archived file."""
    return [(p.parent.name, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(settings.archive_dir.rglob("*")) if p.is_file()]


def test_a_file_that_cannot_be_read_is_left_for_the_next_run_and_the_batch_goes_on(engine, settings, monkeypatch):
    # An upload owned by another account (SFTP's 0600) or a file removed after the scan: the batch went down
    # with PermissionError before any file got a verdict.
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    good = shutil.copyfile(SAMPLES / "van-ho_2019-2020_CN.xlsx", landing / "van-ho.xlsx")
    locked = shutil.copyfile(SAMPLES / "quynh-nhai_2019-2020_CN.xlsx", landing / "quynh-nhai.xlsx")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads any file: refuse this one as the system refuses another user
        def refusing_open(file, *args, **kwargs):
            if Path(file) == locked:
                raise PermissionError(13, "Permission denied", str(file))
            return open(file, *args, **kwargs)

        monkeypatch.setattr(etl.ingest, "open", refusing_open, raising=False)
    skipped = []
    verdicts = ingest_landing(engine, settings, on_skip=skipped.append)
    assert [(v.file_name, v.status) for v in verdicts] == [("van-ho.xlsx", "accepted")]
    assert [(s.path, s.reason) for s in skipped] == [(locked, "không đọc được tệp (Permission denied)")]
    with engine.connect() as c:
        assert c.execute(sa.text("select file_name from dq.submission")).scalars().all() == ["van-ho.xlsx"]
    assert not good.exists() and locked.exists()
    assert [p.name for p in settings.archive_dir.rglob("*") if p.is_file()] == ["van-ho.xlsx"]

    monkeypatch.undo()
    locked.chmod(0o644)
    verdicts = ingest_landing(engine, settings)
    assert [(v.file_name, v.status, v.ma_don_vi) for v in verdicts] == [("quynh-nhai.xlsx", "accepted", "118")]
    assert not locked.exists()


def test_a_file_still_being_uploaded_is_not_archived_half_and_waits_for_the_next_run(engine, settings, monkeypatch):
    # The district's upload goes on after the file was hashed: the archive held other bytes than its sha256
    # names, and the submission recorded the hash of a half file.
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    whole = (SAMPLES / "van-ho_2019-2020_CN.xlsx").read_bytes()
    uploading = landing / "van-ho.xlsx"
    uploading.write_bytes(whole[:4000])

    class StillUploading(io.FileIO):
        """The landing file as read while the upload goes on: its last bytes arrive once it was read."""

        def close(self) -> None:
            super().close()
            with open(uploading, "ab") as rest:
                rest.write(whole[uploading.stat().st_size:])

    def opening(file, mode="r", *args, **kwargs):
        if Path(file) == uploading and "r" in mode and uploading.stat().st_size < len(whole):
            return StillUploading(file, "rb")
        return open(file, mode, *args, **kwargs)

    monkeypatch.setattr(etl.ingest, "open", opening, raising=False)
    skipped = []
    assert ingest_files(engine, settings, [uploading], on_skip=skipped.append) == []
    assert [(s.path.name, s.reason) for s in skipped] == [
        ("van-ho.xlsx", "tệp đang thay đổi (có thể đang được tải lên)")]
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from dq.submission")).scalar() == 0
    assert uploading.read_bytes() == whole
    assert _archived_bytes_match_their_sha(settings) == []

    verdict, = ingest_landing(engine, settings)
    assert (verdict.status, verdict.ma_don_vi) == ("accepted", "128")
    sha = hashlib.sha256(whole).hexdigest()
    with engine.connect() as c:
        assert c.execute(sa.text("select sha256 from dq.submission")).scalar() == sha
    assert _archived_bytes_match_their_sha(settings) == [(sha, sha)]


def test_a_duplicate_is_reported_in_its_place_after_the_files_that_arrived_before_it(engine, settings, tmp_path):
    """One chunk (a province's night): the copy's verdict comes after the earlier files', not first."""
    province = settings.province_config()
    first = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "a.xlsx", seed=1)
    second = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "b.xlsx", seed=2)
    copy = tmp_path / "c_copy_of_a.xlsx"
    shutil.copyfile(first, copy)
    third = generate_district_workbook(province, "126", "2019-2020", "CN", tmp_path / "d.xlsx", seed=3)
    for i, path in enumerate([first, second, copy, third]):
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    printed = []
    verdicts = ingest_files(engine, settings, [first, second, copy, third],
                            on_verdict=lambda v: printed.append((v.file_name, v.status)))
    assert printed == [(v.file_name, v.status) for v in verdicts] == [
        ("a.xlsx", "accepted"), ("b.xlsx", "accepted"), ("c_copy_of_a.xlsx", "duplicate"), ("d.xlsx", "accepted")]


def test_a_copy_of_a_replaced_version_is_a_duplicate_its_district_is_told_how_to_send_again(engine, settings,
                                                                                           tmp_path):
    """v1 right, v2 a mistake; the clerk sends v1's very file again. Same bytes: a duplicate, not processed
    (issue 3), but filed under its district and period, with a warning the district's e-mail carries."""
    from etl.alerts import build_district_alerts

    province = settings.province_config()
    v1 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "v1.xlsx", seed=1)
    v2 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "v2.xlsx", seed=2)
    again = tmp_path / "v1_gui_lai.xlsx"
    shutil.copyfile(v1, again)
    first, = ingest_files(engine, settings, [v1])
    second, = ingest_files(engine, settings, [v2])
    copy, = ingest_files(engine, settings, [again])
    assert (copy.status, copy.ma_don_vi, copy.nam_hoc, copy.ky_bao_cao) == ("duplicate", "128", "2019-2020", "CN")
    with engine.connect() as c:
        row = c.execute(sa.text("select ma_don_vi, nam_hoc, ky_bao_cao, duplicate_of, n_warnings from dq.submission "
                                "where submission_id = :s"), {"s": copy.submission_id}).one()
        issues = c.execute(sa.text("select severity, rule, message from dq.issue where submission_id = :s"),
                           {"s": copy.submission_id}).all()
        current = c.execute(sa.text("select submission_id from core.current_submission")).scalar()
    assert tuple(row) == ("128", "2019-2020", "CN", first.submission_id, 1)
    [(severity, rule, message)] = issues
    assert (severity, rule) == ("warning", "duplicate_of_replaced")
    assert message.startswith("Tệp giống hệt tệp đã gửi lúc ") and f"(mã tiếp nhận #{first.submission_id})" in message
    assert current == second.submission_id, "a duplicate changes nothing"
    [mail] = build_district_alerts(engine, settings, [copy.submission_id])
    assert "TRÙNG: tệp giống hệt một tệp đã gửi trước, không xử lý lại." in mail.text
    assert "hãy mở tệp bằng Excel, lưu lại rồi gửi lại" in mail.text


def test_a_copy_of_a_file_of_the_same_night_gets_its_period_and_the_warning_if_replaced(engine, settings, tmp_path):
    province = settings.province_config()
    v1 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "a_v1.xlsx", seed=1)
    v2 = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "b_v2.xlsx", seed=2)
    again = tmp_path / "c_v1_again.xlsx"
    shutil.copyfile(v1, again)
    for i, path in enumerate([v1, v2, again]):
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    verdicts = ingest_files(engine, settings, [v1, v2, again])
    assert [(v.status, v.ma_don_vi, v.nam_hoc, v.ky_bao_cao) for v in verdicts] == [
        ("accepted", "128", "2019-2020", "CN"), ("accepted", "128", "2019-2020", "CN"),
        ("duplicate", "128", "2019-2020", "CN")]
    with engine.connect() as c:
        rows = c.execute(sa.text("select s.ma_don_vi, i.rule from dq.submission as s join dq.issue as i "
                                 "using (submission_id) where s.submission_id = :s"),
                         {"s": verdicts[2].submission_id}).all()
    assert [tuple(r) for r in rows] == [("128", "duplicate_of_replaced")]


def test_a_district_whose_only_file_is_held_has_sent_it(engine, settings, tmp_path):
    """The Sở locked 2019-2020 CN without Sốp Cộp; its valid file then arrives and is held. It has sent (late),
    not `missing`: reporting_status names the held file, which unlocking would publish."""
    province = settings.province_config()
    other = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "128.xlsx", seed=1)
    late = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "127.xlsx", seed=2)
    ingest_files(engine, settings, [other])
    lock_period(engine, "2019-2020", "CN", reason="đã báo cáo UBND tỉnh")
    held, = ingest_files(engine, settings, [late])
    assert held.status == "held"
    with engine.connect() as c:
        status = c.execute(sa.text("select status, submission_id from mart.reporting_status where ma_don_vi = '127' "
                                   "and nam_hoc = '2019-2020' and ky_bao_cao = 'CN'")).one()
    # the generated files' modification time is now, long after the 2020 deadline
    assert tuple(status) == ("late", held.submission_id)


def test_ingesting_the_data_folder_itself_takes_none_of_tonghops_own_files(engine, settings, tmp_path):
    """`tonghop ingest ./var` by mistake: the archive, reports and outbox are not new arrivals."""
    first, = ingest_files(engine, settings, [SAMPLES / "van-ho_2019-2020_CN.xlsx"])
    (settings.reports_dir).mkdir(parents=True, exist_ok=True)
    (settings.reports_dir / "bao-cao.csv").write_text("a,b\n", encoding="utf-8")
    again = ingest_files(engine, settings, [settings.home])
    assert again == []
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from dq.submission")).scalar() == 1


def test_file_names_no_database_or_share_can_take_get_a_verdict_and_leave_the_landing_folder(engine, settings):
    # Names as uploading clients write them: bytes that are not UTF-8 (an old Windows, a legacy zip), a line
    # break, characters a Windows share refuses, a name so long that quarantine's prefix no longer fits.
    # The first stopped the whole night (psycopg cannot encode it), every night, as the file stayed.
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    names = {
        os.fsdecode(b"B\xe1o c\xe1o CN.xlsx"): ("B\ufffdo c\ufffdo CN.xlsx", "B\ufffdo c\ufffdo CN.xlsx"),
        "Quỳnh Nhai\r\nCN.xlsx": ("Quỳnh Nhai  CN.xlsx", "Quỳnh Nhai  CN.xlsx"),
        'CN: "bản cuối"?.xlsx': ('CN: "bản cuối"?.xlsx', "CN_ _bản cuối__.xlsx"),
        "con.xlsx": ("con.xlsx", "_con.xlsx"),
        "Báo cáo thống kê " * 11 + ".xlsx": ("Báo cáo thống kê " * 11 + ".xlsx", None),
    }
    for i, name in enumerate(names):
        (landing / name).write_bytes(b"not a workbook %d" % i)  # rejected: quarantined and archived
    verdicts = {v.file_name: v for v in ingest_landing(engine, settings)}
    assert {name: v.status for name, v in verdicts.items()} == {shown: "rejected" for shown, _ in names.values()}
    with engine.connect() as c:
        recorded = dict(c.execute(sa.text("select file_name, archive_path from dq.submission")).all())
    assert set(recorded) == {shown for shown, _ in names.values()}
    for shown, stored in names.values():
        archived = Path(recorded[shown])
        assert archived.exists() and archived.parent.name == hashlib.sha256(archived.read_bytes()).hexdigest()
        assert len(archived.name.encode()) <= 200
        if stored is not None:
            assert archived.name == stored
        quarantined = settings.quarantine_dir / f"{verdicts[shown].submission_id}_{archived.name}"
        assert quarantined.read_bytes() == archived.read_bytes()
    long_name = Path(recorded["Báo cáo thống kê " * 11 + ".xlsx"]).name
    assert long_name.startswith("Báo cáo thống kê Báo cáo") and long_name.endswith(".xlsx")
    assert list(landing.iterdir()) == []  # every file left the landing folder


def _with_nul(source: Path, out: Path, texts: list[str]) -> Path:
    """A copy of a workbook whose given shared texts end with a NUL, as Excel writes one (`_x0000_`)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/sharedStrings.xml":
                for text in texts:
                    assert f"<t>{text}</t>".encode() in data
                    data = data.replace(f"<t>{text}</t>".encode(), f"<t>{text}_x0000_</t>".encode())
            zout.writestr(item, data)
    return out


def _csv_zip_of(source: Path, out: Path, poison: str) -> Path:
    """The CSV variant of a workbook, with a NUL after the text `poison` wherever it is."""
    book = openpyxl.load_workbook(source)
    with zipfile.ZipFile(out, "w") as archive:
        for sheet in book.worksheets:
            text = io.StringIO()
            rows = sheet.iter_rows(values_only=True)
            csv.writer(text).writerows([["" if v is None else v for v in row] for row in rows])
            archive.writestr(f"{sheet.title}.csv", text.getvalue().replace(poison, poison + "\x00"))
    return out


def test_a_nul_character_in_a_cell_is_dropped_and_does_not_fail_the_night(engine, settings, tmp_path):
    # Nobody sees a NUL in a cell, and PostgreSQL cannot store one: COPY failed, and with it the transaction
    # of the whole chunk (every district's file of the night), again every night.
    province = settings.province_config()
    vanho = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "vanho.xlsx", seed=1)
    xlsx = _with_nul(vanho, tmp_path / "van-ho.xlsx", ["Lò Thị Hương", "Trường Mầm non Vân Hồ"])
    mocchau = generate_district_workbook(province, "116", "2019-2020", "CN", tmp_path / "mc.xlsx", seed=1)
    zipped = _csv_zip_of(mocchau, tmp_path / "moc-chau.zip", "Trường Mầm non")
    other = generate_district_workbook(province, "118", "2019-2020", "CN", tmp_path / "quynh-nhai.xlsx", seed=1)
    verdicts = ingest_files(engine, settings, [xlsx, zipped, other])
    assert [(v.file_name, v.status) for v in verdicts] == [
        ("van-ho.xlsx", "accepted"), ("moc-chau.zip", "accepted"), ("quynh-nhai.xlsx", "accepted")]
    with engine.connect() as c:
        nguoi_lap = c.execute(sa.text("select nguoi_lap from staging.thong_tin where submission_id = :s"),
                              {"s": verdicts[0].submission_id}).scalar()
        names = c.execute(sa.text("select ten_truong from staging.truong_lop where submission_id = any(:s) "
                                  "and ten_truong like '%Vân Hồ'"), {"s": [v.submission_id for v in verdicts]})
        names = list(names.scalars())
        published = c.execute(sa.text("select count(*) from core.current_submission")).scalar()
    assert nguoi_lap == "Lò Thị Hương" and names == ["Trường Mầm non Vân Hồ"]
    assert published == 3


def test_an_identity_thousands_of_characters_long_is_rejected_without_failing_the_night(engine, settings, tmp_path):
    # dq.submission's index on (district, school year, round) takes at most 2,704 bytes a row: a "Năm học" or a
    # "Mã đơn vị" of 6,000 characters failed the transaction of the whole chunk, every district's file, and the
    # file, left `received`, failed the next night's again.
    province = settings.province_config()
    letters = random.Random(1)  # not repetitive: PostgreSQL compresses a repetitive value under the limit
    text = "".join(letters.choice("aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạ0123456789") for _ in range(6_000))
    files = []
    for key, cell in (("nam_hoc", "B4"), ("ma_don_vi", "B2")):
        path = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / f"{key}.xlsx", seed=1)
        book = openpyxl.load_workbook(path)
        book["ThongTin"][cell].value = text
        book.save(path)
        files.append(path)
    files.append(generate_district_workbook(province, "118", "2019-2020", "CN", tmp_path / "ok.xlsx", seed=1))
    verdicts = ingest_files(engine, settings, files)
    assert [v.status for v in verdicts] == ["rejected", "rejected", "accepted"]
    with engine.connect() as c:
        recorded = c.execute(sa.text("select file_name, ma_don_vi, nam_hoc from dq.submission order by 1")).all()
        rules = c.execute(sa.text("select s.file_name, i.rule from dq.issue i join dq.submission s "
                                  "using (submission_id) where i.severity = 'error' order by 1")).all()
    assert recorded == [("ma_don_vi.xlsx", text[:199] + "…", "2019-2020"), ("nam_hoc.xlsx", "128", text[:199] + "…"),
                        ("ok.xlsx", "118", "2019-2020")]
    assert rules == [("ma_don_vi.xlsx", "unknown_district"), ("nam_hoc.xlsx", "wrong_period")]
