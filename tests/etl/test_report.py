"""Report files (etl/report.py) against spec/indicators.md: a phase report compares the baseline year, every
year of the phase and the target, for every unit with a target: the province or a district with its own plan.

Facts are written straight into core (tests/etl/test_rollup.py's helper), so these tests pin the reports alone."""

from __future__ import annotations

import csv
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa
import xlsxwriter
import xlsxwriter.exceptions

from etl import registry, warehouse
from etl.report import write_annual_report, write_phase_report
from etl.rollup import rebuild_marts
from tests.etl.test_rollup import write_facts

BUON_MA_THUOT = "643"  # Đắk Lắk: the district with its own plan (seed 000)


def test_a_phase_report_compares_a_district_with_its_own_targets(make_settings, tmp_path):
    settings = make_settings("dak-lak")
    engine = warehouse.prepare(settings)
    province = settings.province_config()
    registry.load_province(engine, province)
    with engine.begin() as c:  # Đắk Lắk ships targets only: its registry is not configured
        c.execute(sa.text("insert into core.district (ma_don_vi, ten_don_vi, ma_tinh) "
                          "values (:d, 'Phòng GD&ĐT thành phố Buôn Ma Thuột', '66')"), {"d": BUON_MA_THUOT})
    # the facts of each year are replaced by the next year's: roll up one year at a time
    school = {"ma_don_vi": BUON_MA_THUOT, "gv_tong": 10, "gv_td_cao_dang": 6, "gv_td_dai_hoc": 4,
              "gv_duoc_danh_gia": 10, "gv_tot": 4, "gv_kha": 4}
    for nam_hoc in ("2020-2021", "2024-2025"):
        write_facts(engine, nam_hoc, {"66643001": school}, {BUON_MA_THUOT: (10, 10, 10)})
        rebuild_marts(engine, [(nam_hoc, "CN")])

    csv_path = next(p for p in write_phase_report(engine, province, "2021-2025", tmp_path) if p.suffix == ".csv")
    rows = list(csv.reader(csv_path.open(encoding="utf-8")))
    header, body = rows[0], rows[1:]
    assert header[2:7] == ["2020-2021", "2021-2022", "2022-2023", "2023-2024", "2024-2025"]
    by_indicator = {row[0]: row for row in body}
    assert set(by_indicator) == {"gv_cd_tro_len", "gv_kha_tro_len", "cot_can_bd_ho_tro", "bd_theo_chuan"}, \
        "the four 2021-2025 targets of Buôn Ma Thuột (indicators.md, seed 000)"
    gv_cd = by_indicator["gv_cd_tro_len"]
    assert (gv_cd[2], gv_cd[6], gv_cd[7], gv_cd[8]) == ("100.0", "100.0", "100.0", "Đạt")
    gv_kha = by_indicator["gv_kha_tro_len"]
    assert (gv_kha[6], gv_kha[7], gv_kha[8]) == ("80.0", "90.0", "Chưa đạt")
    assert all(row[-1] == "Phòng GD&ĐT thành phố Buôn Ma Thuột" for row in body), "each row names its unit"


def test_the_annual_report_shows_a_small_share_to_its_published_decimal(engine, settings, tmp_path):
    """One manager of 665 rated chưa đạt is 0.15 % (indicators.md, Sơn La May 2019: "a correct roll-up shows
    0.15"); the report's sheet shows 0.15, not 0.2."""
    school = {"ma_don_vi": "118", "cbql_tong": 665, "cbql_duoc_danh_gia": 665, "cbql_tot": 289, "cbql_kha": 346,
              "cbql_dat": 29, "cbql_chua_dat": 1}
    write_facts(engine, "2018-2019", {"14118001": school}, {"118": (10, 10, 10)})
    rebuild_marts(engine, [("2018-2019", "CN")])
    xlsx = next(p for p in write_annual_report(engine, settings.province_config(), "2018-2019", tmp_path)
                if p.suffix == ".xlsx")
    sheet = openpyxl.load_workbook(xlsx, read_only=True)["Toàn tỉnh"]
    shown = {row[0]: row[4] for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert shown["cbql_chua_dat"] == 0.15
    assert shown["cbql_kha"] == 52.03  # 346 / 665: the published 52.0 % to two decimals


def test_the_annual_report_speaks_vietnamese_to_its_readers(engine, settings, tmp_path):
    """The report goes to UBND tỉnh and the Ministry: the district sheet's columns are the indicators' Vietnamese
    labels (with their unit, `%`), not warehouse codes, and the standard in force reads as words."""
    school = {"ma_don_vi": "118", "gv_tong": 10, "gv_td_cao_dang": 6, "gv_td_dai_hoc": 4}
    write_facts(engine, "2019-2020", {"14118001": school}, {"118": (10, 10, 10)})
    rebuild_marts(engine, [("2019-2020", "CN")])
    xlsx = next(p for p in write_annual_report(engine, settings.province_config(), "2019-2020", tmp_path)
                if p.suffix == ".xlsx")
    book = openpyxl.load_workbook(xlsx, read_only=True)
    header = next(book["Theo huyện"].iter_rows(min_row=3, max_row=3, values_only=True))
    assert "GV trình độ từ CĐ trở lên %" in header and "gv_cd_tro_len" not in header
    definitions = {row[0]: row[8] for row in book["Toàn tỉnh"].iter_rows(min_row=4, values_only=True)}
    assert definitions["gv_dat_chuan_td"] == "từ trung cấp trở lên"
    assert definitions["gv_tren_chuan_td"] == "từ cao đẳng trở lên"


def test_the_annual_report_judges_a_year_before_its_target_year_as_progress(engine, settings, tmp_path):
    """2019-2020 against Sơn La's 2024-2025 targets (indicators.md): a share below the 2025 level is not yet
    due, not a target missed; the 2019-2020 targets are judged as targets."""
    school = {"ma_don_vi": "118", "gv_tong": 10, "gv_td_cao_dang": 6, "gv_td_trung_cap": 4,
              "gv_duoc_danh_gia": 10, "gv_tot": 5, "gv_kha": 4, "gv_dat": 1}
    write_facts(engine, "2019-2020", {"14118001": school}, {"118": (10, 10, 10)})
    rebuild_marts(engine, [("2019-2020", "CN")])
    xlsx = next(p for p in write_annual_report(engine, settings.province_config(), "2019-2020", tmp_path)
                if p.suffix == ".xlsx")
    rows = {row[0]: row for row in openpyxl.load_workbook(xlsx, read_only=True)["Toàn tỉnh"].iter_rows(
        min_row=4, values_only=True)}
    assert rows["gv_cd_tro_len"][6:8] == ("2024-2025", "Chưa đến hạn (2024-2025); chưa đạt mức mục tiêu")
    assert rows["gv_kha_tro_len"][6:8] == ("2019-2020", "Đạt")  # 90 % of 90 % due in 2019-2020


def test_the_district_sheet_has_one_row_per_reporting_district_with_its_own_name(engine, settings, tmp_path):
    """Two districts reporting: the sheet 'Theo huyện' lists each once, under its own name. Pivoting on code and
    name together with dropna=False made every code × name pair a row: 118 also appeared as 'Thuận Châu' (and 119
    as 'Quỳnh Nhai'), with 'không có dữ liệu' in every column; for Sơn La's 12 districts, 144 rows."""
    schools = {"14118001": {"ma_don_vi": "118", "gv_tong": 10, "gv_td_cao_dang": 5},
               "14119001": {"ma_don_vi": "119", "gv_tong": 20, "gv_td_cao_dang": 20}}
    write_facts(engine, "2019-2020", schools, {"118": (10, 10, 10), "119": (10, 10, 10)})
    rebuild_marts(engine, [("2019-2020", "CN")])
    xlsx = next(p for p in write_annual_report(engine, settings.province_config(), "2019-2020", tmp_path)
                if p.suffix == ".xlsx")
    sheet = openpyxl.load_workbook(xlsx, read_only=True)["Theo huyện"]
    header = next(sheet.iter_rows(min_row=3, max_row=3, values_only=True))
    column = header.index("GV trình độ từ CĐ trở lên %")
    rows = [(row[0], row[1], row[column]) for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert rows == [("118", "Phòng GD&ĐT huyện Quỳnh Nhai", 50), ("119", "Phòng GD&ĐT huyện Thuận Châu", 100)]


SON_LA = ["116", "118", "119", "120", "121", "122", "123", "124", "125", "126", "127", "128"]


def reporting(engine, nam_hoc: str, districts: list[str]) -> None:
    """The given districts' CN facts (one school each) rolled up; Sốp Cộp (127) sent only a rejected file."""
    school = {"gv_tong": 10, "gv_td_cao_dang": 6, "gv_td_dai_hoc": 4}
    write_facts(engine, nam_hoc, {f"14{d}001": {"ma_don_vi": d, **school} for d in districts},
                {d: (10, 10, 10) for d in districts})
    with engine.begin() as c:
        c.execute(sa.text(
            "insert into dq.submission (file_name, sha256, size_bytes, archive_path, received_at, status, "
            "ma_don_vi, nam_hoc, ky_bao_cao, n_errors) values ('127.xlsx', 'x', 1, '/x', '2020-06-10', 'rejected', "
            "'127', :y, 'CN', 3)"), {"y": nam_hoc})
    rebuild_marts(engine)


def test_the_annual_report_says_which_districts_its_province_figures_leave_out(engine, settings, tmp_path):
    # Vân Hồ (128) sent nothing by the 2020 deadline, Sốp Cộp (127) only a rejected file: the province
    # figures sum ten districts, and the report must say so where the figures are, not only on a later sheet.
    reporting(engine, "2019-2020", SON_LA[:10])
    paths = write_annual_report(engine, settings.province_config(), "2019-2020", tmp_path)
    xlsx, csv_path = (next(p for p in paths if p.suffix == suffix) for suffix in (".xlsx", ".csv"))
    note = openpyxl.load_workbook(xlsx, read_only=True)["Toàn tỉnh"]["A2"].value
    assert note == ("CHƯA ĐỦ SỐ LIỆU: số liệu toàn tỉnh chỉ tổng hợp từ 10/12 đơn vị; chưa có số liệu của: "
                    "Phòng GD&ĐT huyện Sốp Cộp (chỉ có tệp bị từ chối); Phòng GD&ĐT huyện Vân Hồ (chưa nộp).")
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert {(r["n_districts"], r["n_districts_expected"]) for r in rows} == {("10", "12")}
    phase = next(p for p in write_phase_report(engine, settings.province_config(), "2019-2020", tmp_path)
                 if p.suffix == ".csv")
    coverage_row = list(csv.reader(phase.open(encoding="utf-8")))[-1]
    assert coverage_row[1] == "Số đơn vị có số liệu tổng kết cả năm / số đơn vị phải báo cáo"
    assert coverage_row[2:4] == ["0/12", "10/12"]  # 2018-2019 (baseline, no facts here), 2019-2020


def test_the_annual_report_of_every_district_says_it_is_complete(engine, settings, tmp_path):
    reporting(engine, "2019-2020", SON_LA)
    xlsx = next(p for p in write_annual_report(engine, settings.province_config(), "2019-2020", tmp_path)
                if p.suffix == ".xlsx")
    assert openpyxl.load_workbook(xlsx, read_only=True)["Toàn tỉnh"]["A2"].value == \
        "Số liệu toàn tỉnh tổng hợp từ đủ 12/12 đơn vị."


def test_names_are_written_as_text_never_as_formulas_or_links(engine, settings, tmp_path):
    # xlsxwriter's write() makes a formula of a text beginning with `=` and a link of one beginning with
    # `http://`: a registry name exported from a spreadsheet as `=HYPERLINK(...)` (or one typed so) would be a
    # live formula in the report the Sở signs.
    reporting(engine, "2019-2020", SON_LA[:2])
    with engine.begin() as c:
        c.execute(sa.text("update core.district set ten_don_vi = '=HYPERLINK(\"http://x.example/\",\"Mộc Châu\")' "
                          "where ma_don_vi = '116'"))
        c.execute(sa.text("update core.district set ten_don_vi = 'http://x.example/' where ma_don_vi = '118'"))
    xlsx = next(p for p in write_annual_report(engine, settings.province_config(), "2019-2020", tmp_path)
                if p.suffix == ".xlsx")
    with zipfile.ZipFile(xlsx) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    assert not [name for name, xml in parts.items() if b"<f>" in xml or b"<hyperlink" in xml]
    sheet = openpyxl.load_workbook(xlsx)["Theo huyện"]
    assert [sheet["B4"].value, sheet["B5"].value] == ['=HYPERLINK("http://x.example/","Mộc Châu")', "http://x.example/"]


def test_a_report_that_fails_half_way_leaves_the_previous_one_whole(engine, settings, tmp_path, monkeypatch):
    """The Sở signs from these files: a write that dies mid-way must not leave a truncated workbook in place."""
    schools = {"14118001": {"ma_don_vi": "118", "gv_tong": 10, "gv_td_cao_dang": 5}}
    write_facts(engine, "2019-2020", schools, {"118": (10, 10, 10)})
    rebuild_marts(engine, [("2019-2020", "CN")])
    xlsx, csv_path = write_annual_report(engine, settings.province_config(), "2019-2020", tmp_path)
    before = (xlsx.read_bytes(), csv_path.read_bytes())

    def disk_full(book) -> None:  # the disk fills while the workbook is being written out
        with open(book.filename, "wb") as f:
            f.write(b"PK\x03\x04 half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", disk_full)
    with pytest.raises((OSError, xlsxwriter.exceptions.FileCreateError)):
        write_annual_report(engine, settings.province_config(), "2019-2020", tmp_path)
    assert (xlsx.read_bytes(), csv_path.read_bytes()) == before
