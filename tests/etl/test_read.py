"""etl/read.py: the shared samples read to expected.json, and each real-world deviation read right or reported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from openpyxl.utils import get_column_letter

from etl.layout import load_layout
from etl.model import ParsedWorkbook
from etl.normalize import MAX_COUNT
from etl.read import read_workbook

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "samples"
LAYOUT = load_layout()
SCHOOL_SHEETS = [s.name for s in LAYOUT.school_sheets]


# ---------------------------------------------------------------- workbook builder (also used by the other test files)


@dataclass(frozen=True)
class F:
    """A formula cell with its cached value."""

    formula: str
    cached: Any


@dataclass(frozen=True)
class DateShown:
    """A number in a cell formatted as a date (Excel shows the date of that serial)."""

    number: float


Book = dict[str, list[list[Any]]]  # sheet name -> rows of cells (None = empty cell)


def write_xlsx(path: Path, book: Book, *, hidden_cols: dict[str, list[int]] | None = None,
               merges: dict[str, list[tuple[int, int, int, int, str]]] | None = None,
               hidden_rows: dict[str, list[int]] | None = None, hidden_sheets: tuple[str, ...] = ()) -> Path:
    """Write a workbook with xlsxwriter: str as text, numbers as numbers, dates as Excel dates, `F` as formulas."""
    wb = xlsxwriter.Workbook(str(path))
    date_format = wb.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows in book.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                if isinstance(cell, F):
                    ws.write_formula(r, c, cell.formula, None, cell.cached)
                elif isinstance(cell, DateShown):
                    ws.write_number(r, c, cell.number, date_format)
                elif isinstance(cell, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(cell, dt.time()), date_format)
                elif isinstance(cell, str):
                    ws.write_string(r, c, cell)
                else:
                    ws.write_number(r, c, cell)
        for c in (hidden_cols or {}).get(name, []):
            ws.set_column(c, c, None, None, {"hidden": True})
        for r in (hidden_rows or {}).get(name, []):
            ws.set_row(r, None, None, {"hidden": True})
        if name in hidden_sheets:
            ws.hide()
        for r1, c1, r2, c2, text in (merges or {}).get(name, []):
            ws.merge_range(r1, c1, r2, c2, text)
    wb.close()
    return path


def thongtin_rows(ky_bao_cao: str = "CN", **overrides: Any) -> list[list[Any]]:
    values = {
        "phien_ban": "DA33-MN-v1", "ma_don_vi": "118", "ten_don_vi": "Phòng GD&ĐT huyện Quỳnh Nhai",
        "nam_hoc": "2019-2020", "ky_bao_cao": ky_bao_cao, "nguoi_lap": "Vì Thị Xuân",
        "dien_thoai": "0212 3800 697", "email": "a@example.org", "ngay_lap": "2020-06-16",
        "dan_so_0_2": 4367, "dan_so_3_5": 5104, "dan_so_5": 1723,
    } | overrides
    spec = LAYOUT.sheets["ThongTin"]
    return [[spec.column(k).label_vi, v] for k, v in values.items() if v is not ...]


def school_code(i: int) -> str:
    return f"14118{i + 1:03d}"


def table_values(sheet: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n valid rows of a table sheet, typed as the reader should return them."""
    rng = random.Random(f"{sheet}-{seed}")
    rows = []
    for i in range(n):
        row: dict[str, Any] = {}
        for column in LAYOUT.sheets[sheet].columns:
            if column.type == "int":
                row[column.key] = rng.randint(0, 60)
            elif column.type == "code":
                row[column.key] = school_code(i)
            elif column.type == "enum":
                row[column.key] = sorted(LAYOUT.enums[column.key])[i % len(LAYOUT.enums[column.key])]
            elif column.type == "flag":
                row[column.key] = i % 2
            elif column.type == "decimal":
                row[column.key] = rng.randint(0, 5000) / 10
            elif column.key == "ten_lop":
                row[column.key] = f"Lớp bồi dưỡng số {i + 1}"
            else:
                row[column.key] = f"Trường Mầm non số {i + 1}"
        rows.append(row)
    return rows


def table_rows(sheet: str, values: list[dict[str, Any]], *, key_row: bool = False) -> list[list[Any]]:
    spec = LAYOUT.sheets[sheet]
    rows: list[list[Any]] = [[c.label_vi for c in spec.columns]]
    if key_row:
        rows.append([c.key for c in spec.columns])
    rows.extend([row[c.key] for c in spec.columns] for row in values)
    return rows


def valid_book(n: int = 3, ky_bao_cao: str = "CN") -> tuple[Book, dict[str, list[dict[str, Any]]]]:
    book: Book = {"ThongTin": thongtin_rows(ky_bao_cao)}
    expected = {}
    for sheet in [*SCHOOL_SHEETS, "LopBoiDuong"]:
        expected[sheet] = table_values(sheet, n)
        book[sheet] = table_rows(sheet, expected[sheet])
    return book, expected


def read(tmp_path: Path, book: Book, name: str = "book.xlsx", **kwargs: Any) -> ParsedWorkbook:
    return read_workbook(write_xlsx(tmp_path / name, book, **kwargs))


def findings(wb: ParsedWorkbook, rule: str) -> list[tuple[str, str | None, int | None, str | None, str | None]]:
    return [(f.severity, f.sheet, f.row_number, f.column_key, f.value) for f in wb.findings if f.rule == rule]


def errors(wb: ParsedWorkbook) -> list[str]:
    return [f"{f.rule}: {f.message}" for f in wb.findings if f.severity == "error"]


def col(sheet: str, key: str) -> int:
    return LAYOUT.sheets[sheet].keys.index(key)


# ---------------------------------------------------------------- the shared samples

EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))["files"]


@pytest.fixture(scope="module")
def samples() -> dict[str, ParsedWorkbook]:
    return {entry["file"]: read_workbook(SAMPLES / entry["file"]) for entry in EXPECTED}


def _sum(wb: ParsedWorkbook, key: str) -> int:
    return int(sum(int(t[key].sum()) for t in wb.tables.values() if key in t.columns and key != "ma_truong"))


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_sample_thongtin_and_no_errors(samples: dict[str, ParsedWorkbook], entry: dict[str, Any]) -> None:
    wb = samples[entry["file"]]
    assert errors(wb) == []
    assert wb.template_version == "DA33-MN-v1"
    expected = dict(entry["thongtin"])
    expected["ngay_lap"] = dt.date.fromisoformat(expected["ngay_lap"])
    assert {k: wb.header.get(k) for k in expected} == expected
    assert wb.period == (entry["ma_don_vi"], entry["nam_hoc"], entry["ky_bao_cao"])


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_sample_district_totals(samples: dict[str, ParsedWorkbook], entry: dict[str, Any]) -> None:
    wb = samples[entry["file"]]
    school_keys = [k for s in LAYOUT.school_sheets for k in s.count_keys]
    read_totals = {k: int(wb.tables[s.name][k].sum()) if s.name in wb.tables else 0
                   for s in LAYOUT.school_sheets for k in s.count_keys}
    read_totals["so_truong"] = len(wb.tables["TruongLop"])
    read_totals["dat_chuan_qg"] = int(wb.tables["TruongLop"]["dat_chuan_qg"].sum())
    assert set(entry["district_totals"]) == {*school_keys, "so_truong", "dat_chuan_qg"}
    assert read_totals == entry["district_totals"]


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_sample_courses(samples: dict[str, ParsedWorkbook], entry: dict[str, Any]) -> None:
    wb = samples[entry["file"]]
    empty = pd.DataFrame(columns=["so_hoc_vien", "so_hoan_thanh", "kinh_phi", "hinh_thuc"])
    courses = wb.tables.get("LopBoiDuong", empty)
    expected = entry["courses"]
    assert len(courses) == expected["n"]
    assert int(courses["so_hoc_vien"].sum()) == expected["so_hoc_vien"]
    assert int(courses["so_hoan_thanh"].sum()) == expected["so_hoan_thanh"]
    assert round(Decimal(str(float(courses["kinh_phi"].sum()))), 6) == Decimal(expected["kinh_phi"])
    by_form = {k: int((courses["hinh_thuc"] == k).sum()) for k in expected["by_hinh_thuc"]}
    assert by_form == expected["by_hinh_thuc"]


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_sample_header_and_totals_rows(samples: dict[str, ParsedWorkbook], entry: dict[str, Any]) -> None:
    wb = samples[entry["file"]]
    for sheet, row in entry.get("header_rows", {}).items():
        assert wb.header_rows[sheet] == row, sheet
    assert {s: t["row"] for s, t in wb.totals.items()} == entry.get("totals_rows", {})
    assert findings(wb, "totals_row_mismatch") == []


def test_sample_totals_rows_hold_the_written_sums(samples: dict[str, ParsedWorkbook]) -> None:
    totals = samples["quynh-nhai_2019-2020_CN.xlsx"].totals["TruongLop"]["values"]
    assert totals["tre_mau_giao"] == 4848  # written as the text `4.848`
    assert totals["so_lop_mau_giao"] == 188


def test_csv_variant_reads_the_same_tables_as_the_xlsx(samples: dict[str, ParsedWorkbook]) -> None:
    from_zip = samples["sop-cop_2019-2020_CN.zip"]
    from_xlsx = samples["sop-cop_2019-2020_CN.xlsx"]
    assert from_zip.header == from_xlsx.header
    for sheet, table in from_xlsx.tables.items():
        pd.testing.assert_frame_equal(from_zip.tables[sheet].drop(columns="_row"), table.drop(columns="_row"))


def test_sample_tables_have_the_documented_dtypes(samples: dict[str, ParsedWorkbook]) -> None:
    wb = samples["sop-cop_2019-2020_CN.xlsx"]
    truong = wb.tables["TruongLop"]
    assert truong["so_nhom_tre"].dtype == "int64"  # every cell read: plain int64
    assert truong["dat_chuan_qg"].dtype == "int64"
    assert pd.api.types.is_string_dtype(truong["ma_truong"])
    assert truong["ma_truong"].tolist()[0] == "14127001"  # written as a number
    assert list(truong.columns) == [*LAYOUT.sheets["TruongLop"].keys, "_row"]
    assert wb.tables["LopBoiDuong"]["kinh_phi"].dtype == "float64"
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist()[0] == 11.4  # the text `11,4`
    assert truong["_row"].tolist() == list(range(2, 10))


def test_sample_ignored_things_are_reported_as_info(samples: dict[str, ParsedWorkbook]) -> None:
    van_ho = samples["van-ho_2019-2020_CN.xlsx"]
    note = ("info", "TruongLop", 11, None, "Ghi chú: số liệu tính đến ngày 31/5/2020.")
    assert note in findings(van_ho, "ignored_row")
    hidden = [f for f in van_ho.findings if f.rule == "ignored_column" and f.sheet == "DoiNgu"]
    assert len(hidden) == 1 and "ẩn" in hidden[0].message and "cột C" in hidden[0].message
    stt = [f for f in samples["quynh-nhai_2019-2020_CN.xlsx"].findings if f.rule == "ignored_column"]
    assert {f.sheet for f in stt} == {*SCHOOL_SHEETS, "LopBoiDuong"} and all(f.value == "STT" for f in stt)


# ---------------------------------------------------------------- a valid hand-built workbook


def test_valid_book_reads_back_every_value(tmp_path: Path) -> None:
    book, expected = valid_book(4)
    wb = read(tmp_path, book)
    assert errors(wb) == []
    for sheet, rows in expected.items():
        table = wb.tables[sheet].drop(columns="_row")
        assert table.to_dict("records") == rows, sheet


# ---------------------------------------------------------------- labels, sheet names, header position


def test_labels_in_nfd_with_double_spaces_line_breaks_and_capitals(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    header = book["TruongLop"][0]
    header[col("TruongLop", "tre_nha_tre")] = unicodedata.normalize("NFD", "Số trẻ  nhà trẻ")
    header[col("TruongLop", "so_lop_mau_giao")] = "SỐ LỚP\nMẪU GIÁO"
    header[col("TruongLop", "ten_truong")] = " tên   trường "
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["tre_nha_tre"].tolist() == [r["tre_nha_tre"] for r in expected["TruongLop"]]
    assert wb.tables["TruongLop"]["so_lop_mau_giao"].tolist() == [r["so_lop_mau_giao"] for r in expected["TruongLop"]]


@pytest.mark.parametrize("name", ["Thông tin", "THONG TIN", "thong_tin_x", "ThongTin", "Thong_Tin", "1. ThongTin",
                                  "Biểu 1 - Thông tin", "Biểu số 01 ThongTin", "ThongTin (2)"])
def test_sheet_names_match_after_normalisation(tmp_path: Path, name: str) -> None:
    book, _ = valid_book(1)
    book = {name if k == "ThongTin" else k: v for k, v in book.items()}
    wb = read(tmp_path, book)
    if name == "thong_tin_x":
        assert findings(wb, "ignored_sheet") == [("info", name, None, None, None)]
        assert any(f.rule == "missing_sheet" for f in wb.findings)
    else:
        assert wb.sheet_names["ThongTin"] == name
        assert wb.header["ma_don_vi"] == "118"


def test_merged_title_rows_above_the_header(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    book["DoiNgu"] = [["PHÒNG GD&ĐT"], ["ĐỘI NGŨ - NĂM HỌC 2019-2020"], [], *book["DoiNgu"]]
    wb = read(tmp_path, book, merges={"DoiNgu": [(0, 0, 0, 8, "PHÒNG GD&ĐT"), (1, 0, 1, 8, "ĐỘI NGŨ")]})
    assert errors(wb) == []
    assert wb.header_rows["DoiNgu"] == 4
    assert wb.tables["DoiNgu"]["_row"].tolist() == [5, 6]
    assert wb.tables["DoiNgu"]["gv_tong"].tolist() == [r["gv_tong"] for r in expected["DoiNgu"]]


def test_header_beyond_the_search_rows_is_reported(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    book["BoiDuong"] = [[] for _ in range(15)] + book["BoiDuong"]
    book["BoiDuong"][0] = ["BỒI DƯỠNG"]
    wb = read(tmp_path, book)
    assert findings(wb, "header_not_found") == [("error", "BoiDuong", None, None, None)]
    assert "BoiDuong" not in wb.tables


def test_label_split_over_two_merged_header_rows(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    spec = LAYOUT.sheets["DoiNgu"]
    upper, lower = [], []
    for column in spec.columns:
        if column.label_vi.startswith("Trình độ CBQL: "):
            first = column.key == "cbql_td_duoi_trung_cap"
            upper.append("Trình độ CBQL" if first else None)
            lower.append(column.label_vi.removeprefix("Trình độ CBQL: "))
        else:
            upper.append(column.label_vi)
            lower.append(None)
    start = col("DoiNgu", "cbql_td_duoi_trung_cap")
    book["DoiNgu"] = [upper, lower, *book["DoiNgu"][1:]]
    wb = read(tmp_path, book, merges={"DoiNgu": [(0, start, 0, start + 4, "Trình độ CBQL")]})
    assert errors(wb) == []
    assert wb.header_rows["DoiNgu"] == 1
    for key in ("cbql_td_duoi_trung_cap", "cbql_td_dai_hoc", "cbql_td_sau_dai_hoc"):
        assert wb.tables["DoiNgu"][key].tolist() == [r[key] for r in expected["DoiNgu"]], key
    assert wb.tables["DoiNgu"]["_row"].tolist() == [3, 4]


def test_older_rating_names_are_the_same_columns(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    header = book["DanhGiaChuan"][0]
    header[col("DanhGiaChuan", "gv_tot")] = "GV xếp loại Xuất sắc"
    header[col("DanhGiaChuan", "gv_dat")] = "GV xếp loại Trung bình"
    header[col("DanhGiaChuan", "cbql_chua_dat")] = "CBQL xếp loại Kém"
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["DanhGiaChuan"]["gv_tot"].tolist() == [r["gv_tot"] for r in expected["DanhGiaChuan"]]


def test_columns_in_any_order_with_a_key_row(tmp_path: Path) -> None:
    book, expected = valid_book(3)
    rows = table_rows("DoiNgu", expected["DoiNgu"], key_row=True)
    rows = [list(reversed(r)) for r in rows]
    book["DoiNgu"] = rows
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["DoiNgu"].drop(columns="_row").to_dict("records") == expected["DoiNgu"]
    assert wb.tables["DoiNgu"]["_row"].tolist() == [3, 4, 5]


# ---------------------------------------------------------------- numbers, codes, dates, enumerations


def test_numbers_as_text_with_thousands_separators_and_trailing_zero(tmp_path: Path) -> None:
    book, _ = valid_book(4)
    c = col("TruongLop", "tre_mau_giao")
    for r, text in zip(range(1, 5), ["1.234", "1 234", "12.0", "2.345.678"], strict=True):
        book["TruongLop"][r][c] = text
    book["TruongLop"][1][col("TruongLop", "so_nhom_tre")] = 12.0
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["tre_mau_giao"].tolist() == [1234, 1234, 12, 2345678]
    assert wb.tables["TruongLop"]["so_nhom_tre"].tolist()[0] == 12


def test_vietnamese_decimal_comma_in_kinh_phi(tmp_path: Path) -> None:
    book, _ = valid_book(4)
    c = col("LopBoiDuong", "kinh_phi")
    for r, value in zip(range(1, 5), ["12,5", "1.250,5", 1.234, "0,125"], strict=True):
        book["LopBoiDuong"][r][c] = value
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [12.5, 1250.5, 1.234, 0.125]


def test_codes_as_numbers_and_leading_zeros(tmp_path: Path) -> None:
    book, _ = valid_book(3)
    c = col("TruongLop", "ma_truong")
    book["TruongLop"][1][c] = 14118001
    book["TruongLop"][2][c] = "0010000"
    book["TruongLop"][3][c] = "'14118003"
    book["ThongTin"][1][1] = 118
    wb = read(tmp_path, book)
    assert wb.tables["TruongLop"]["ma_truong"].tolist() == ["14118001", "0010000", "14118003"]
    assert wb.header["ma_don_vi"] == "118"


def test_codes_stored_as_numbers_get_back_the_leading_zeros_excel_dropped(tmp_path: Path) -> None:
    """Bắc Kạn (province 06, district 058): every code begins with 0, which a number cell does not keep. Read as
    `58` and `6058001`, the file was rejected as from an unknown district. A code typed as text is as written."""
    book, _ = valid_book(3)
    c = col("TruongLop", "ma_truong")
    book["TruongLop"][1][c] = 6058001
    book["TruongLop"][2][c] = "6058002"  # typed as text without its zero: the district's to correct
    book["TruongLop"][3][c] = "06058003"
    book["DoiNgu"][1][col("DoiNgu", "ma_truong")] = 6058001.0
    book["ThongTin"][1][1] = 58
    wb = read(tmp_path, book)
    assert wb.tables["TruongLop"]["ma_truong"].tolist() == ["06058001", "6058002", "06058003"]
    assert wb.tables["DoiNgu"]["ma_truong"].tolist()[0] == "06058001"
    assert wb.header["ma_don_vi"] == "058"
    assert errors(wb) == []


@pytest.mark.parametrize("written", [dt.date(2020, 6, 16), 43998, "16/06/2020", "2020-06-16", "43998"])
def test_ngay_lap_as_excel_date_serial_dmy_or_iso(tmp_path: Path, written: Any) -> None:
    book, _ = valid_book(1)
    book["ThongTin"] = thongtin_rows(ngay_lap=written)
    wb = read(tmp_path, book)
    assert wb.header["ngay_lap"] == dt.date(2020, 6, 16)


@pytest.mark.parametrize(
    ("written", "key"), [("Cả năm", "CN"), ("Cuối năm", "CN"), ("Cuối năm học", "CN"), ("Học kỳ I", "HKI"),
                         ("hki", "HKI"), ("Cuối học kỳ I", "HKI")]
)
def test_ky_bao_cao_labels(tmp_path: Path, written: str, key: str) -> None:
    book, _ = valid_book(1)
    book["ThongTin"] = thongtin_rows(ky_bao_cao=written)
    assert read(tmp_path, book).header["ky_bao_cao"] == key


def test_enum_labels_and_flags(tmp_path: Path) -> None:
    book, _ = valid_book(4)
    written = [("Công lập", "x"), ("TƯ THỤC", "Có"), ("Dân lập", "Không"), ("cong_lap", None)]
    for r, (kind, flag) in enumerate(written, 1):
        book["TruongLop"][r][col("TruongLop", "loai_hinh")] = kind
        book["TruongLop"][r][col("TruongLop", "dat_chuan_qg")] = flag
    book["TruongLop"][1][col("TruongLop", "dat_chuan_qg")] = "Đạt"
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["loai_hinh"].tolist() == ["cong_lap", "tu_thuc", "dan_lap", "cong_lap"]
    assert wb.tables["TruongLop"]["dat_chuan_qg"].tolist() == [1, 1, 0, 0]


def test_invalid_enum_and_flag_values(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    book["TruongLop"][1][col("TruongLop", "loai_hinh")] = "abc"
    book["TruongLop"][2][col("TruongLop", "dat_chuan_qg")] = "có lẽ"
    wb = read(tmp_path, book)
    assert findings(wb, "invalid_value") == [
        ("error", "TruongLop", 2, "loai_hinh", "abc"), ("error", "TruongLop", 3, "dat_chuan_qg", "có lẽ")]
    assert findings(wb, "not_a_number") == []


def test_not_a_number_and_negative(tmp_path: Path) -> None:
    book, _ = valid_book(3)
    c = col("DoiNgu", "gv_tong")
    book["DoiNgu"][1][c] = "12,5"
    book["DoiNgu"][2][c] = -3
    book["DoiNgu"][3][c] = "mười"
    book["LopBoiDuong"][1][col("LopBoiDuong", "kinh_phi")] = "12,5 triệu"
    wb = read(tmp_path, book)
    assert findings(wb, "not_a_number") == [
        ("error", "DoiNgu", 2, "gv_tong", "12,5"), ("error", "DoiNgu", 4, "gv_tong", "mười"),
        ("error", "LopBoiDuong", 2, "kinh_phi", "12,5 triệu")]
    assert findings(wb, "negative") == [("error", "DoiNgu", 3, "gv_tong", "-3")]
    gv_tong = wb.tables["DoiNgu"]["gv_tong"]
    assert gv_tong.isna().tolist() == [True, False, True] and gv_tong[1] == -3
    assert gv_tong.dtype == "Int64"  # an unreadable cell makes the column nullable
    assert wb.tables["DoiNgu"]["gv_bien_che"].dtype == "int64"


def test_a_number_in_a_date_formatted_cell_is_reported_with_the_number_it_holds(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    book["TruongLop"][1][col("TruongLop", "tre_mau_giao")] = DateShown(45)
    book["LopBoiDuong"][2][col("LopBoiDuong", "kinh_phi")] = DateShown(228.5)
    wb = read(tmp_path, book)
    assert findings(wb, "not_a_number") == [
        ("error", "TruongLop", 2, "tre_mau_giao", "1900-02-14 00:00:00"),
        ("error", "LopBoiDuong", 3, "kinh_phi", "1900-08-15 12:00:00"),
    ]
    messages = [f.message for f in wb.findings if f.rule == "not_a_number"]
    assert "là ngày 14/02/1900), còn số lưu trong ô là 45;" in messages[0]
    assert "còn số lưu trong ô là 228,5;" in messages[1]
    assert wb.tables["TruongLop"]["tre_mau_giao"].isna().tolist() == [True, False]
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist()[0] == expected["LopBoiDuong"][0]["kinh_phi"]


def test_empty_count_cell_is_zero(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    book["BoiDuong"][1][col("BoiDuong", "gv_llct")] = None
    book["BoiDuong"][2][col("BoiDuong", "gv_llct")] = "  "
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["BoiDuong"]["gv_llct"].tolist() == [0, 0]


def test_count_cells_read_in_bulk_match_the_cell_by_cell_rules(tmp_path: Path) -> None:
    """Counts are typed from Arrow in one go when plain; every other spelling keeps its cell rule, and a
    count beyond PostgreSQL's integer (what staging and core store) is reported, not read."""
    book, _ = valid_book(6)
    c = col("DoiNgu", "gv_tong")
    cells = ["2147483647", "2147483648", "0" * 31 + "5", "+7", "0x1F", "١٢"]
    for i, cell in enumerate(cells):
        book["DoiNgu"][1 + i][c] = cell
    book["DoiNgu"].insert(4, [])  # a blank row: the data rows are not contiguous
    wb = read(tmp_path, book)
    gv_tong = wb.tables["DoiNgu"]["gv_tong"]
    assert gv_tong.tolist()[0] == 2**31 - 1
    assert gv_tong.isna().tolist() == [False, True, True, False, True, False]
    assert gv_tong.tolist()[3] == 7 and gv_tong.tolist()[5] == 12  # as parse_count reads them
    bad = [f for f in wb.findings if f.rule == "not_a_number"]
    assert [f.value for f in bad] == ["2147483648", "0" * 31 + "5", "0x1F"]
    assert "quá lớn (tối đa 2.147.483.647)" in bad[0].message and "quá lớn" not in bad[2].message
    assert gv_tong.dtype == "Int64" and wb.tables["DoiNgu"]["gv_bien_che"].dtype == "int64"


@pytest.mark.parametrize(
    ("first", "read_as", "too_large"),
    [("2147483647", 2**31 - 1, False), ("2147483648", None, True)],
)
def test_plain_digit_counts_are_cast_at_once_within_the_largest_count(
    tmp_path: Path, first: str, read_as: int | None, too_large: bool
) -> None:
    """A sheet's count cells of ASCII digits only are typed by one checked cast to int32, whose largest value
    is normalize.MAX_COUNT: leading zeros read as parse_count reads them, and a larger count fails the cast
    and is reported by the cell-by-cell rule."""
    assert np.iinfo(np.int32).max == MAX_COUNT
    book, _ = valid_book(3)
    c = col("DoiNgu", "gv_tong")
    for i, cell in enumerate([first, "0000000012", "7"]):
        book["DoiNgu"][1 + i][c] = cell
    wb = read(tmp_path, book)
    gv_tong = wb.tables["DoiNgu"]["gv_tong"]
    assert gv_tong.tolist()[1:] == [12, 7]
    assert (gv_tong.tolist()[0] if not too_large else None) == read_as
    bad = [f.value for f in wb.findings if f.rule == "not_a_number"]
    assert bad == (["2147483648"] if too_large else [])


# ---------------------------------------------------------------- rows: totals, blanks, notes, unlabelled


def _with_totals(book: Book, sheet: str, values: list[dict[str, Any]], *, off_by: int = 0) -> int:
    spec = LAYOUT.sheets[sheet]
    row: list[Any] = [None] * len(spec.columns)
    row[col(sheet, "ten_truong")] = "Tổng cộng"
    for key in spec.count_keys:
        row[col(sheet, key)] = sum(v[key] for v in values)
    row[col(sheet, spec.count_keys[0])] += off_by
    book[sheet].append(row)
    return len(book[sheet])


def test_totals_row_is_excluded_and_checked(tmp_path: Path) -> None:
    book, expected = valid_book(3)
    totals_row = _with_totals(book, "TruongLop", expected["TruongLop"])
    wb = read(tmp_path, book)
    assert errors(wb) == [] and findings(wb, "totals_row_mismatch") == []
    assert len(wb.tables["TruongLop"]) == 3
    assert wb.totals["TruongLop"]["row"] == totals_row
    assert wb.totals["TruongLop"]["values"]["tre_mau_giao"] == sum(r["tre_mau_giao"] for r in expected["TruongLop"])


def test_totals_row_mismatch_is_a_warning(tmp_path: Path) -> None:
    book, expected = valid_book(3)
    totals_row = _with_totals(book, "TruongLop", expected["TruongLop"], off_by=5)
    written = sum(r["so_nhom_tre"] for r in expected["TruongLop"]) + 5
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert findings(wb, "totals_row_mismatch") == [("warning", "TruongLop", totals_row, "so_nhom_tre", str(written))]


def test_totals_label_cong_in_the_code_column(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    row: list[Any] = [None] * len(LAYOUT.sheets["DoiNgu"].columns)
    row[col("DoiNgu", "ma_truong")] = "Cộng"
    row[col("DoiNgu", "gv_tong")] = sum(r["gv_tong"] for r in expected["DoiNgu"])
    book["DoiNgu"].append(row)
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert len(wb.tables["DoiNgu"]) == 2 and wb.totals["DoiNgu"]["row"] == 4


def test_blank_rows_between_schools_and_notes_block(tmp_path: Path) -> None:
    book, expected = valid_book(3)
    rows = book["TruongLop"]
    book["TruongLop"] = [rows[0], rows[1], [], [None, "   "], rows[2], rows[3], [], [None, "Ghi chú: số liệu đến 31/5"],
                         [None, "Người lập biểu"]]
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["_row"].tolist() == [2, 5, 6]
    assert [r for _, _, r, _, _ in findings(wb, "ignored_row")] == [8, 9]


def test_unlabelled_row_is_an_error_never_dropped(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    row: list[Any] = [None] * len(LAYOUT.sheets["DoiNgu"].columns)
    row[col("DoiNgu", "ten_truong")] = "Trường MN mới"
    row[col("DoiNgu", "gv_tong")] = 12
    book["DoiNgu"].insert(2, row)
    wb = read(tmp_path, book)
    assert findings(wb, "unlabelled_row") == [("error", "DoiNgu", 3, "ma_truong", None)]
    assert wb.tables["DoiNgu"]["_row"].tolist() == [2, 4]


def test_course_rows_need_ten_lop(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    book["LopBoiDuong"][2][col("LopBoiDuong", "ten_lop")] = None
    wb = read(tmp_path, book)
    assert findings(wb, "unlabelled_row") == [("error", "LopBoiDuong", 3, "ten_lop", None)]
    assert len(wb.tables["LopBoiDuong"]) == 1


def test_second_table_on_the_same_sheet_is_reported(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    second = table_rows("BoiDuong", table_values("BoiDuong", 2, seed=9))
    book["BoiDuong"] += [[], ["Bảng 2: số liệu năm trước"], *second]
    wb = read(tmp_path, book)
    assert findings(wb, "unexpected_layout") == [("error", "BoiDuong", 6, None, None)]
    assert len(wb.tables["BoiDuong"]) == 2


# ---------------------------------------------------------------- columns: STT, hidden, extra, missing, duplicate


def test_stt_hidden_and_extra_columns_are_ignored_and_reported(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    rows = book["TruongLop"]
    rows[0] = ["STT", *rows[0], "Ghi chú", "Cột phụ"]
    for i, row in enumerate(rows[1:], 1):
        rows[i] = [i, *row, "điểm trường xa", 99]
    wb = read(tmp_path, book, hidden_cols={"TruongLop": [len(rows[0]) - 2]})
    assert errors(wb) == []
    assert wb.tables["TruongLop"].drop(columns="_row").to_dict("records") == expected["TruongLop"]
    ignored = [f for f in wb.findings if f.rule == "ignored_column"]
    assert [(f.severity, f.value) for f in ignored] == [("info", "STT"), ("info", "Ghi chú"), ("info", "Cột phụ")]
    assert "ẩn" in ignored[1].message and "ẩn" not in ignored[2].message


def test_missing_required_column_names_its_label(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    c = col("DoiNgu", "nv_tong")
    book["DoiNgu"] = [row[:c] + row[c + 1:] for row in book["DoiNgu"]]
    wb = read(tmp_path, book)
    assert findings(wb, "missing_column") == [("error", "DoiNgu", None, "nv_tong", None)]
    assert next(f.message for f in wb.findings if f.rule == "missing_column") == (
        "Thiếu cột bắt buộc 'Tổng số nhân viên' (nv_tong) trong trang tính 'DoiNgu'.")  # no other column to name
    assert "nv_tong" not in wb.tables["DoiNgu"].columns


def test_unknown_label_is_reported_not_guessed(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    book["DoiNgu"][0][col("DoiNgu", "gv_bien_che")] = "GV hợp đồng"
    wb = read(tmp_path, book)
    assert ("info", "DoiNgu", 1, None, "GV hợp đồng") in findings(wb, "ignored_column")
    assert findings(wb, "missing_column") == [("error", "DoiNgu", None, "gv_bien_che", None)]
    # the error names the column no label took (its "not in the template" is info, never mailed), so the
    # clerk sees which one to rename
    letter = chr(ord("A") + col("DoiNgu", "gv_bien_che"))
    assert next(f.message for f in wb.findings if f.rule == "missing_column") == (
        f"Thiếu cột bắt buộc 'GV trong biên chế' (gv_bien_che) trong trang tính 'DoiNgu'; các cột của trang tính "
        f"không khớp với tên cột nào của mẫu: 'GV hợp đồng' (cột {letter}). Nếu cột cần có là một trong các cột "
        f"này, hãy sửa tên cột cho đúng như trong mẫu.")


def test_duplicate_visible_column_is_an_error(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    for row in book["DoiNgu"]:
        row.append(row[col("DoiNgu", "gv_tong")])
    wb = read(tmp_path, book)
    assert findings(wb, "duplicate_column") == [("error", "DoiNgu", None, "gv_tong", None)]
    # the copy is a template column: not also reported as a column "not in the template"
    assert [f for f in wb.findings if f.rule == "ignored_column" and f.sheet == "DoiNgu"] == []


def test_hidden_duplicate_column_gives_way_to_the_visible_one(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    c = col("DoiNgu", "gv_tong")
    for i, row in enumerate(book["DoiNgu"]):
        row.insert(c, row[c] if i == 0 else 999)
    wb = read(tmp_path, book, hidden_cols={"DoiNgu": [c]})
    assert errors(wb) == []
    assert wb.tables["DoiNgu"]["gv_tong"].tolist() == [r["gv_tong"] for r in expected["DoiNgu"]]


# ---------------------------------------------------------------- formulas


def test_formula_cached_values_are_used(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    c = col("DoiNgu", "gv_tong")
    first, last = col("DoiNgu", "gv_td_duoi_trung_cap"), col("DoiNgu", "gv_td_sau_dai_hoc")
    for r in (1, 2):
        book["DoiNgu"][r][c] = F(f"=SUM({chr(65 + first)}{r + 1}:{chr(65 + last)}{r + 1})", 77)
    wb = read(tmp_path, book)
    assert wb.tables["DoiNgu"]["gv_tong"].tolist() == [77, 77]


@pytest.mark.parametrize("literal", ["#REF!", "#DIV/0!", "#N/A", "#VALUE!"])
def test_formula_error_is_an_error_on_that_cell(tmp_path: Path, literal: str) -> None:
    book, _ = valid_book(2)
    book["TruongLop"][2][col("TruongLop", "tre_5_tuoi")] = F("=1/0" if literal == "#DIV/0!" else "=#REF!", literal)
    wb = read(tmp_path, book)
    assert findings(wb, "formula_error") == [("error", "TruongLop", 3, "tre_5_tuoi", literal)]
    assert wb.tables["TruongLop"]["tre_5_tuoi"].isna().tolist() == [False, True]


def without_cached_values(path: Path, formulas: dict[tuple[str, int, int], str]) -> Path:
    """The workbook with these cells (sheet, 0-based row and column) as formulas saved by openpyxl, which
    writes no cached value (as any program that does not calculate)."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    for (sheet, r, c), formula in formulas.items():
        book[sheet].cell(row=r + 1, column=c + 1).value = formula
    book.save(path)
    return path


def test_a_formula_saved_without_its_value_is_an_error_on_that_cell_not_a_zero(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    c = col("DoiNgu", "gv_tong")
    path = without_cached_values(write_xlsx(tmp_path / "book.xlsx", book), {("DoiNgu", 2, c): "=SUM(H3:L3)"})
    wb = read_workbook(path)
    assert findings(wb, "formula_error") == [("error", "DoiNgu", 3, "gv_tong", "=SUM(H3:L3)")]
    message = next(f.message for f in wb.findings if f.rule == "formula_error")
    assert "không lưu kết quả của công thức" in message and f"Ô {chr(65 + c)}3" in message
    assert wb.tables["DoiNgu"]["gv_tong"].isna().tolist() == [False, True]
    assert wb.tables["DoiNgu"]["gv_tong"].iloc[0] == expected["DoiNgu"][0]["gv_tong"]
    assert wb.tables["TruongLop"]["tre_mau_giao"].tolist() == [r["tre_mau_giao"] for r in expected["TruongLop"]]


def without_cell_references(path: Path) -> Path:
    """The workbook with its cells' references (`r="E3"`) left out, as the format allows and some writers do:
    a cell is then in the column after the cell before it."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            if name.startswith("xl/worksheets/"):
                data = re.sub(rb'(<c\b[^>]*?) r="[A-Z]+[0-9]+"', rb"\1", data)
            archive.writestr(name, data)
    return path


def test_cells_without_references_keep_their_unvalued_formulas_and_stored_numbers(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    book["LopBoiDuong"][1][col("LopBoiDuong", "kinh_phi")] = 1.234  # a number: 1.234, not 1234
    c = col("DoiNgu", "gv_tong")
    path = without_cached_values(write_xlsx(tmp_path / "book.xlsx", book), {("DoiNgu", 2, c): "=SUM(H3:L3)"})
    wb = read_workbook(without_cell_references(path))
    assert findings(wb, "formula_error") == [("error", "DoiNgu", 3, "gv_tong", "=SUM(H3:L3)")]
    assert wb.tables["DoiNgu"]["gv_tong"].isna().tolist() == [False, True]
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [1.234, expected["LopBoiDuong"][1]["kinh_phi"]]


def test_parts_named_in_another_case_than_their_relationships_are_read_and_their_formulas_checked(
    tmp_path: Path,
) -> None:
    # Part names are case-insensitive (Excel and calamine open such a file); the reader's own look into the
    # sheets' XML found no part, and the file was rejected as unreadable
    book, expected = valid_book(2)
    book["LopBoiDuong"][1][col("LopBoiDuong", "kinh_phi")] = 1.234  # a number: 1.234, not 1234
    c = col("DoiNgu", "gv_tong")
    path = without_cached_values(write_xlsx(tmp_path / "book.xlsx", book), {("DoiNgu", 2, c): "=SUM(H3:L3)"})
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    rels = parts["xl/_rels/workbook.xml.rels"]
    assert rels.count(b"worksheets/sheet") == 6
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(b"worksheets/sheet", b"Worksheets/Sheet")
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    wb = read_workbook(path)
    assert [f.rule for f in wb.findings if f.severity == "error"] == ["formula_error"]
    assert findings(wb, "formula_error") == [("error", "DoiNgu", 3, "gv_tong", "=SUM(H3:L3)")]
    assert wb.tables["DoiNgu"]["gv_tong"].tolist()[0] == expected["DoiNgu"][0]["gv_tong"]
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [1.234, expected["LopBoiDuong"][1]["kinh_phi"]]
    assert wb.header["dan_so_0_2"] == 4367


def test_a_shared_formula_saved_without_its_value_is_reported_without_a_formula_text_it_does_not_have(
    tmp_path: Path,
) -> None:
    # the cells of a filled-down formula refer to the first one's text (`<f t="shared" si="0"/>`): they have none
    book, _ = valid_book(2)
    c = col("DoiNgu", "gv_tong")
    path = without_cached_values(write_xlsx(tmp_path / "book.xlsx", book), {
        ("DoiNgu", 1, c): "=SUM(H2:L2)", ("DoiNgu", 2, c): "=SUM(H3:L3)"})
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data.replace(b"<f>SUM(H3:L3)</f>", b'<f t="shared" si="0"/>'))
    wb = read_workbook(path)
    assert findings(wb, "formula_error") == [("error", "DoiNgu", 2, "gv_tong", "=SUM(H2:L2)"),
                                             ("error", "DoiNgu", 3, "gv_tong", None)]
    letter = chr(65 + c)
    assert [f.message for f in wb.findings if f.rule == "formula_error"][1] == (
        f"Ô {letter}3 (cột 'Tổng số giáo viên', dòng 3) có công thức nhưng tệp không lưu kết quả của công thức (tệp "
        f"được tạo bằng phần mềm không tính công thức), nên không đọc được số liệu; hãy mở tệp bằng Excel hoặc "
        f"LibreOffice, lưu lại rồi gửi lại.")


def test_formulas_without_values_in_thongtin_and_the_totals_row_are_errors_too(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    totals_row = _with_totals(book, "TruongLop", expected["TruongLop"])
    dan_so_5 = next(r for r, row in enumerate(book["ThongTin"]) if row[0] == LAYOUT.sheets["ThongTin"]
                    .column("dan_so_5").label_vi)
    c = col("TruongLop", "tre_mau_giao")
    path = without_cached_values(write_xlsx(tmp_path / "book.xlsx", book), {
        ("ThongTin", dan_so_5, 1): "=1000+723",
        ("TruongLop", totals_row - 1, c): f"=SUM({chr(65 + c)}2:{chr(65 + c)}3)",
    })
    wb = read_workbook(path)
    assert findings(wb, "formula_error") == [
        ("error", "ThongTin", dan_so_5 + 1, "dan_so_5", "=1000+723"),
        ("error", "TruongLop", totals_row, "tre_mau_giao", f"=SUM({chr(65 + c)}2:{chr(65 + c)}3)"),
    ]
    assert "dan_so_5" not in wb.header
    assert wb.tables["TruongLop"]["tre_mau_giao"].tolist() == [r["tre_mau_giao"] for r in expected["TruongLop"]]


def test_a_formula_saved_with_an_empty_number_value_is_an_error_not_a_zero(tmp_path: Path) -> None:
    # `<v></v>` is the same XML as `<v/>`: a program serialising "no cached value" that way (an XML writer
    # keeping every end tag) left the count read as 0, with no finding where no totals row is written
    book, expected = valid_book(2)
    c = col("DoiNgu", "gv_tong")
    path = without_cached_values(write_xlsx(tmp_path / "book.xlsx", book), {("DoiNgu", 2, c): "=SUM(H3:L3)"})
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    assert parts["xl/worksheets/sheet3.xml"].count(b"<f>SUM(H3:L3)</f><v />") == 1
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data.replace(b"<f>SUM(H3:L3)</f><v />", b'<f>SUM(H3:L3)</f><v></v>'))
    wb = read_workbook(path)
    assert findings(wb, "formula_error") == [("error", "DoiNgu", 3, "gv_tong", "=SUM(H3:L3)")]
    assert wb.tables["DoiNgu"]["gv_tong"].isna().tolist() == [False, True]
    assert wb.tables["DoiNgu"]["gv_tong"].iloc[0] == expected["DoiNgu"][0]["gv_tong"]


def test_a_formula_whose_value_is_the_empty_text_is_an_empty_cell(tmp_path: Path) -> None:
    # as Excel and LibreOffice save it: a text cell (`t="str"`) with an empty value element, in either XML form
    book, expected = valid_book(2)
    book["TruongLop"][2][col("TruongLop", "so_lop_5_tuoi")] = F('=IF(1=1,"",1)', "")
    book["TruongLop"][1][col("TruongLop", "so_lop_5_tuoi")] = F('=IF(1=1,"",2)', "")
    path = write_xlsx(tmp_path / "book.xlsx", book)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = parts["xl/worksheets/sheet2.xml"]
    excel = re.sub(rb'(<c r="[A-Z]+3"[^>]*)><f>IF\(1=1,"",1\)</f><v></v>',
                   rb'\1 t="str"><f>IF(1=1,"",1)</f><v></v>', sheet)
    excel = re.sub(rb'(<c r="[A-Z]+2"[^>]*)><f>IF\(1=1,"",2\)</f><v></v>',
                   rb'\1 t="str"><f>IF(1=1,"",2)</f><v/>', excel)
    assert excel.count(b't="str"') == 2
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, excel if name == "xl/worksheets/sheet2.xml" else data)
    wb = read_workbook(path)
    assert errors(wb) == [] and findings(wb, "formula_error") == []
    assert wb.tables["TruongLop"]["so_lop_5_tuoi"].tolist() == [0, 0]


# ---------------------------------------------------------------- sheets and ThongTin


def test_missing_sheets_depend_on_the_round(tmp_path: Path) -> None:
    book, _ = valid_book(1, ky_bao_cao="HKI")
    del book["DanhGiaChuan"], book["LopBoiDuong"]
    assert errors(read(tmp_path, book, "hki.xlsx")) == []
    book["ThongTin"] = thongtin_rows("CN")
    assert findings(read(tmp_path, book, "cn.xlsx"), "missing_sheet") == [("error", "DanhGiaChuan", None, None, None)]
    del book["DoiNgu"]
    messages = [f.message for f in read(tmp_path, book, "cn2.xlsx").findings if f.rule == "missing_sheet"]
    assert len(messages) == 2 and any("DoiNgu" in m for m in messages)


def test_empty_danh_gia_chuan_in_hki_is_fine(tmp_path: Path) -> None:
    book, _ = valid_book(2, ky_bao_cao="HKI")
    book["DanhGiaChuan"] = book["DanhGiaChuan"][:1]
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert len(wb.tables["DanhGiaChuan"]) == 0
    assert wb.tables["DanhGiaChuan"]["gv_tot"].dtype == "int64"


def test_thongtin_empty_required_value_unknown_row_and_bad_values(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    book["ThongTin"] = [["BÁO CÁO THÔNG TIN CHUNG"], *thongtin_rows(nguoi_lap=None, dan_so_5="nhiều", dan_so_0_2=-1)]
    wb = read(tmp_path, book)
    assert findings(wb, "missing_value") == [("error", "ThongTin", 7, "nguoi_lap", None)]
    assert findings(wb, "ignored_row") == [("info", "ThongTin", 1, None, "BÁO CÁO THÔNG TIN CHUNG")]
    assert findings(wb, "not_a_number") == [("error", "ThongTin", 13, "dan_so_5", "nhiều")]
    assert findings(wb, "negative") == [("error", "ThongTin", 11, "dan_so_0_2", "-1")]
    assert "dan_so_5" not in wb.header


def test_thongtin_missing_row_and_invalid_round(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    book["ThongTin"] = thongtin_rows(ky_bao_cao="Quý 3", email=..., phien_ban=...)
    wb = read(tmp_path, book)
    assert findings(wb, "wrong_period") == [("error", "ThongTin", 4, "ky_bao_cao", "Quý 3")]
    assert ("error", "ThongTin", None, "phien_ban", None) in findings(wb, "missing_value")
    assert wb.template_version is None
    assert "email" not in wb.header


def test_population_with_space_thousands(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    book["ThongTin"] = thongtin_rows(dan_so_0_2="1 679", dan_so_3_5="2.544")
    wb = read(tmp_path, book)
    assert (wb.header["dan_so_0_2"], wb.header["dan_so_3_5"]) == (1679, 2544)


def test_unknown_sheet_is_ignored_as_info(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    book["Sheet1"] = [["ghi chú"]]
    wb = read(tmp_path, book)
    assert findings(wb, "ignored_sheet") == [("info", "Sheet1", None, None, None)]
    assert errors(wb) == []


def write_csv_zip(path: Path, book: Book, *, delimiter: str = ",", encode: Callable[[str], bytes]) -> Path:
    """The CSV variant: one CSV per sheet in a zip, each sheet's text encoded by `encode`."""
    with zipfile.ZipFile(path, "w") as archive:
        for sheet, rows in book.items():
            text = "\n".join(delimiter.join("" if c is None else str(c) for c in row) for row in rows)
            archive.writestr(f"{sheet}.csv", encode(text))
    return path


def test_zip_csv_variant_with_bom_and_semicolons(tmp_path: Path) -> None:
    book, expected = valid_book(2)
    path = write_csv_zip(tmp_path / "csv.zip", book, delimiter=";", encode=lambda text: ("\ufeff" + text).encode())
    wb = read_workbook(path)
    assert errors(wb) == []
    assert wb.tables["TruongLop"].drop(columns="_row").to_dict("records") == expected["TruongLop"]
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [r["kinh_phi"] for r in expected["LopBoiDuong"]]


def test_zip_csv_variant_in_a_windows_code_page_is_unreadable_with_a_way_out(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    path = write_csv_zip(tmp_path / "cp1258.zip", book, encode=lambda text: text.encode("cp1258", errors="replace"))
    wb = read_workbook(path)
    assert [(f.severity, f.rule) for f in wb.findings] == [("error", "unreadable_file")]
    assert "không phải văn bản UTF-8" in wb.findings[0].message and "CSV UTF-8" in wb.findings[0].message


def csv_text(rows: list[list[Any]], delimiter: str) -> str:
    """Rows as a CSV writes them (a field holding the delimiter, a quote or a line break quoted)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(
        ["" if c is None else c for c in row] for row in rows)
    return out.getvalue()


def test_two_csvs_of_one_sheet_in_two_folders_are_a_duplicate_sheet_not_one_dropped(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for sheet, rows in book.items():
            archive.writestr(f"moi/{sheet}.csv", csv_text(rows, ","))
        archive.writestr("cu/TruongLop.csv", csv_text(book["TruongLop"], ","))
    wb = read_workbook(path)
    assert findings(wb, "duplicate_sheet") == [("error", "cu/TruongLop", None, None, None)]
    assert "'moi/TruongLop' và 'cu/TruongLop'; chỉ đọc 'moi/TruongLop'" in wb.findings[0].message


def test_macos_metadata_files_in_a_csv_zip_are_not_sheets(tmp_path: Path) -> None:
    # Finder's "Compress" adds __MACOSX/._<name> (binary resource forks) beside every file
    book, expected = valid_book(2)
    path = tmp_path / "mac.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for sheet, rows in book.items():
            archive.writestr(f"__MACOSX/._{sheet}.csv", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
            archive.writestr(f"{sheet}.csv", csv_text(rows, ","))
    wb = read_workbook(path)
    assert errors(wb) == []
    assert wb.tables["TruongLop"].drop(columns="_row").to_dict("records") == expected["TruongLop"]
    assert ("info", None, None, None, None) in findings(wb, "ignored_sheet")


def test_a_semicolon_csv_whose_first_line_holds_commas_is_read_with_semicolons(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    rows = thongtin_rows(ten_don_vi="Phòng GD&ĐT huyện Quỳnh Nhai, tỉnh Sơn La")
    book["ThongTin"] = [rows[2], *rows[:2], *rows[3:]]  # the name first: Excel writes its comma unquoted
    path = tmp_path / "semi.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for sheet, sheet_rows in book.items():
            text = csv_text(sheet_rows, ";")
            archive.writestr(f"{sheet}.csv", text.replace('"Phòng GD&ĐT huyện Quỳnh Nhai, tỉnh Sơn La"',
                                                          "Phòng GD&ĐT huyện Quỳnh Nhai, tỉnh Sơn La"))
    wb = read_workbook(path)
    assert errors(wb) == []
    assert wb.header["ten_don_vi"] == "Phòng GD&ĐT huyện Quỳnh Nhai, tỉnh Sơn La" and wb.header["ma_don_vi"] == "118"


@pytest.mark.parametrize(("delimiter", "written", "read_as"), [
    (";", "1.234", 1234.0), (";", "12,5", 12.5), (";", "1.250,5", 1250.5), (";", "12.5", 12.5),
    (",", "1.234", 1.234), (",", "12.5", 12.5), (",", "12,5", 12.5)])
def test_kinh_phi_in_a_csv_follows_the_decimal_separator_its_delimiter_implies(
    tmp_path: Path, delimiter: str, written: str, read_as: float
) -> None:
    # `;` separates the fields where the comma is the decimal separator (Excel in Vietnamese): the dot there
    # groups thousands; a `,` separated export writes machine numbers
    book, _ = valid_book(2)
    book["LopBoiDuong"][1][col("LopBoiDuong", "kinh_phi")] = written
    path = tmp_path / "kp.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for sheet, rows in book.items():
            archive.writestr(f"{sheet}.csv", csv_text(rows, delimiter))
    wb = read_workbook(path)
    assert errors(wb) == []
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist()[0] == read_as


def test_a_zip_holding_a_workbook_says_so(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    inner = write_xlsx(tmp_path / "bao-cao.xlsx", book)
    path = tmp_path / "nen.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(inner, "Quynh Nhai/bao-cao.xlsx")
    wb = read_workbook(path)
    assert [(f.severity, f.rule) for f in wb.findings] == [("error", "unreadable_file")]
    assert wb.findings[0].message == ("Tệp không đọc được: tệp .zip chứa tệp Excel 'Quynh Nhai/bao-cao.xlsx'. "
                                      "Hãy gửi thẳng tệp Excel đó, không nén vào tệp .zip.")


@pytest.mark.parametrize("written", ["2019 - 2020", "2019–2020", "Năm học 2019-2020", "2019-20"])
def test_a_school_year_written_another_unambiguous_way_is_read_canonical(tmp_path: Path, written: str) -> None:
    book, _ = valid_book(1)
    book["ThongTin"] = thongtin_rows(nam_hoc=written)
    wb = read(tmp_path, book)
    assert wb.header["nam_hoc"] == "2019-2020" and errors(wb) == []


def test_a_mistyped_school_code_is_named_in_its_row_finding(tmp_path: Path) -> None:
    book, _ = valid_book(3)
    book["TruongLop"][2][col("TruongLop", "ma_truong")] = "14118 002"
    book["TruongLop"][3][col("TruongLop", "ma_truong")] = "Trường mới"
    wb = read(tmp_path, book)
    assert findings(wb, "unlabelled_row") == [("error", "TruongLop", 3, "ma_truong", "14118 002"),
                                              ("error", "TruongLop", 4, "ma_truong", "Trường mới")]
    first, second = (f.message for f in wb.findings if f.rule == "unlabelled_row")
    assert "mã trường '14118 002' không đúng dạng mã" in first
    assert "không có mã trường và không phải dòng tổng cộng" in second


def merged(path: Path, sheet: str, ranges: list[str]) -> Path:
    """The workbook with these ranges merged by openpyxl (which empties every cell but the first)."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    for ref in ranges:
        book[sheet].merge_cells(ref)
    book.save(path)
    return path


def test_merged_cells_over_a_tables_numbers_are_an_error_not_a_zero(tmp_path: Path) -> None:
    book, expected = valid_book(3)
    totals_row = _with_totals(book, "DoiNgu", expected["DoiNgu"])
    letter = chr(65 + col("DoiNgu", "nv_tong"))
    name = chr(65 + col("DoiNgu", "ten_truong"))
    path = merged(write_xlsx(tmp_path / "book.xlsx", book), "DoiNgu",
                  [f"{letter}2:{letter}3", f"{name}3:{name}4", f"A{totals_row + 2}:F{totals_row + 2}"])
    wb = read_workbook(path)
    assert findings(wb, "merged_cells") == [("error", "DoiNgu", 3, "nv_tong", f"{letter}2:{letter}3")]
    assert "chỉ ô đầu" in next(f.message for f in wb.findings if f.rule == "merged_cells")
    assert wb.tables["DoiNgu"]["nv_tong"].tolist()[0] == expected["DoiNgu"][0]["nv_tong"]


def test_merged_title_cells_above_the_header_are_no_finding(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    book["TruongLop"].insert(0, ["PHÒNG GD&ĐT HUYỆN QUỲNH NHAI - BIỂU TRƯỜNG LỚP"])
    path = merged(write_xlsx(tmp_path / "book.xlsx", book), "TruongLop", ["A1:H1"])
    wb = read_workbook(path)
    assert errors(wb) == [] and findings(wb, "merged_cells") == []


def test_a_thongtin_value_written_after_its_label_in_one_cell_is_read(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    rows = thongtin_rows()
    rows[1] = ["Mã đơn vị: 118"]
    rows[3] = ["Năm học :  2019 - 2020 "]
    rows.append(["Ghi chú: số liệu tính đến ngày 31/5"])
    book["ThongTin"] = rows
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert (wb.header["ma_don_vi"], wb.header["nam_hoc"]) == ("118", "2019-2020")
    assert findings(wb, "ignored_row") == [("info", "ThongTin", len(rows), None, "Ghi chú: số liệu tính đến ngày 31/5")]


@pytest.mark.parametrize(
    "label", ["Tổng số GV", "Tổng số giáo viên (người)", "1. Tổng số giáo viên", "(3) Tổng số giáo viên",
              "Tổng số giáo viên (1)", "Tổng số giáo viên*", "a) Tổng số GV:"],
)
def test_a_label_with_an_enumeration_a_unit_or_an_abbreviation_names_its_column(tmp_path: Path, label: str) -> None:
    book, expected = valid_book(2)
    book["DoiNgu"][0][col("DoiNgu", "gv_tong")] = label
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["DoiNgu"]["gv_tong"].tolist() == [r["gv_tong"] for r in expected["DoiNgu"]]


def test_a_sheet_and_its_excel_copy_are_two_sheets_of_one_name(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    book["TruongLop (2)"] = [row[:] for row in book["TruongLop"]]
    wb = read(tmp_path, book)
    assert findings(wb, "duplicate_sheet") == [("error", "TruongLop (2)", None, None, None)]


@pytest.mark.parametrize("hidden", ["TruongLop", "TruongLop (2)"])
def test_a_hidden_sheet_gives_way_to_its_visible_copy(tmp_path: Path, hidden: str) -> None:
    # last year's sheet kept hidden beside this year's copy (Excel's "Move or Copy", then "Hide")
    book, expected = valid_book(2)
    stale = [row[:] for row in book["TruongLop"]]
    for row in stale[1:]:
        row[col("TruongLop", "tre_mau_giao")] = 1
    book["TruongLop (2)"] = book["TruongLop"] if hidden == "TruongLop" else stale
    if hidden == "TruongLop":
        book["TruongLop"] = stale
    wb = read(tmp_path, book, hidden_sheets=(hidden,))
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["tre_mau_giao"].tolist() == [r["tre_mau_giao"] for r in expected["TruongLop"]]
    assert ("info", hidden, None, None, None) in findings(wb, "ignored_sheet")


@pytest.mark.parametrize(
    "label",
    ["TỔNG CỘNG:", "Cộng toàn huyện", "Tổng số (toàn huyện)", "Tổng cộng toàn huyện", "Toàn huyện", "Tổng chung"],
)
def test_a_totals_row_labelled_with_its_scope_is_the_totals_row(tmp_path: Path, label: str) -> None:
    book, expected = valid_book(2)
    totals_row = _with_totals(book, "TruongLop", expected["TruongLop"])
    book["TruongLop"][totals_row - 1][col("TruongLop", "ten_truong")] = label
    wb = read(tmp_path, book)
    assert errors(wb) == [] and wb.totals["TruongLop"]["row"] == totals_row
    assert len(wb.tables["TruongLop"]) == 2


@pytest.mark.parametrize("off_by", [1, 0])
def test_a_row_naming_a_scope_among_other_words_is_not_a_totals_row(tmp_path: Path, off_by: int) -> None:
    book, expected = valid_book(2)
    totals_row = _with_totals(book, "TruongLop", expected["TruongLop"], off_by=off_by)
    book["TruongLop"][totals_row - 1][col("TruongLop", "ten_truong")] = "Tổng số giáo viên toàn huyện"
    wb = read(tmp_path, book)
    assert "TruongLop" not in wb.totals
    if off_by:
        assert findings(wb, "unlabelled_row") == [("error", "TruongLop", totals_row, "ma_truong", None)]
    else:  # its numbers are the schools' sums (a group's sums row, test_read_layouts.py): nothing in it is lost
        assert findings(wb, "unlabelled_row") == []
        assert findings(wb, "ignored_row") == [("info", "TruongLop", totals_row, None, "Tổng số giáo viên toàn huyện")]
    assert len(wb.tables["TruongLop"]) == 2


@pytest.mark.parametrize("style", ["numbers", "brackets", "letters then numbers", "letters"])
@pytest.mark.parametrize("key_row", [False, True])
def test_a_row_numbering_the_columns_under_the_header_is_skipped(tmp_path: Path, style: str, key_row: bool) -> None:
    book, expected = valid_book(2)
    book["DoiNgu"] = table_rows("DoiNgu", expected["DoiNgu"], key_row=key_row)
    n = len(LAYOUT.sheets["DoiNgu"].columns)
    numbering = {
        "numbers": [str(i) for i in range(1, n + 1)],
        "brackets": [f"({i})" for i in range(1, n + 1)],
        "letters then numbers": ["A", "B", *(str(i) for i in range(1, n - 1))],
        "letters": [chr(65 + i) if i < 26 else "A" + chr(65 + i - 26) for i in range(n)],
    }[style]
    book["DoiNgu"].insert(2 if key_row else 1, numbering)
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert findings(wb, "ignored_row") == [("info", "DoiNgu", 3 if key_row else 2, None, None)]
    assert wb.tables["DoiNgu"]["gv_tong"].tolist() == [r["gv_tong"] for r in expected["DoiNgu"]]


@pytest.mark.parametrize(
    ("code", "label_column"), [(3, "ten_truong"), ("118", "ten_truong"), ("TC", "ten_truong"), (12, "STT")]
)
def test_a_totals_row_with_a_number_in_the_code_column_is_the_totals_row(
    tmp_path: Path, code: Any, label_column: str
) -> None:
    # the number of schools or the district's code written in the code column of the totals row
    book, expected = valid_book(3)
    totals_row = _with_totals(book, "DoiNgu", expected["DoiNgu"])
    book["DoiNgu"][totals_row - 1][col("DoiNgu", "ma_truong")] = code
    if label_column == "STT":
        book["DoiNgu"][totals_row - 1][col("DoiNgu", "ten_truong")] = None
        book["DoiNgu"] = [["STT" if r == 0 else "Tổng cộng" if r == totals_row - 1 else r, *row]
                          for r, row in enumerate(book["DoiNgu"])]
    wb = read(tmp_path, book)
    assert errors(wb) == [] and findings(wb, "totals_row_mismatch") == []
    assert wb.tables["DoiNgu"]["ma_truong"].tolist() == [r["ma_truong"] for r in expected["DoiNgu"]]
    assert wb.totals["DoiNgu"]["row"] == totals_row
    assert wb.totals["DoiNgu"]["values"]["gv_tong"] == sum(r["gv_tong"] for r in expected["DoiNgu"])


@pytest.mark.parametrize("unit", ["nghìn đồng", "ngàn đồng", "đồng", "1.000 đồng", "tỷ đồng"])
def test_a_label_whose_unit_differs_from_the_templates_is_not_its_column(tmp_path: Path, unit: str) -> None:
    # amounts in thousand đồng read as million đồng would be a thousand times too large
    book, _ = valid_book(2)
    book["LopBoiDuong"][0][col("LopBoiDuong", "kinh_phi")] = f"Kinh phí ({unit})"
    wb = read(tmp_path, book)
    assert "kinh_phi" not in wb.tables["LopBoiDuong"].columns
    assert findings(wb, "missing_column") == [("error", "LopBoiDuong", None, "kinh_phi", None)]
    assert ("info", "LopBoiDuong", 1, None, f"Kinh phí ({unit})") in findings(wb, "ignored_column")


@pytest.mark.parametrize("unit", ["triệu đồng", "Triệu đồng", "tr.đ", "trđ", "triệu", "ĐVT: triệu đồng", "triệu VNĐ"])
def test_a_label_whose_unit_is_the_templates_written_another_way_is_its_column(tmp_path: Path, unit: str) -> None:
    book, expected = valid_book(2)
    book["LopBoiDuong"][0][col("LopBoiDuong", "kinh_phi")] = f"Kinh phí ({unit}) (5)"
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [r["kinh_phi"] for r in expected["LopBoiDuong"]]


@pytest.mark.parametrize(("sheet", "key", "label"), [
    ("DoiNgu", "gv_tong", "Tổng số giáo viên (nữ)"), ("DoiNgu", "gv_tong", "Tổng số GV (theo định mức)"),
    ("DoiNgu", "gv_tong", "Tổng số GV (năm học trước)"), ("TruongLop", "tre_mau_giao", "Số trẻ mẫu giáo (KH)"),
    ("TruongLop", "tre_mau_giao", "Số trẻ mẫu giáo (dân tộc thiểu số)"),
    ("DoiNgu", "gv_tong", "Tổng số GV (hợp đồng)")])
def test_a_label_whose_note_names_a_part_or_another_time_is_not_the_column(tmp_path: Path, sheet: str, key: str,
                                                                           label: str) -> None:
    """Female teachers, the plan's figures, last year's: dropping the note read them as the column itself."""
    book, _ = valid_book(2)
    book[sheet][0][col(sheet, key)] = label
    wb = read(tmp_path, book)
    assert key not in wb.tables[sheet].columns
    assert ("error", sheet, None, key, None) in findings(wb, "missing_column")
    assert ("info", sheet, 1, None, label) in findings(wb, "ignored_column")


@pytest.mark.parametrize("label", ["Tổng số giáo viên (người)", "Tổng số GV (*)", "Tổng số giáo viên (4)"])
def test_a_label_whose_note_is_a_unit_or_a_mark_is_still_the_column(tmp_path: Path, label: str) -> None:
    book, expected = valid_book(2)
    book["DoiNgu"][0][col("DoiNgu", "gv_tong")] = label
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["DoiNgu"]["gv_tong"].tolist() == [r["gv_tong"] for r in expected["DoiNgu"]]


@pytest.mark.parametrize(("label", "read_as"), [("Dân số độ tuổi nhà trẻ (0-3 tuổi)", None),
                                                ("Dân số độ tuổi nhà trẻ (0 - 2 tuổi)", 4367),
                                                ("Dân số độ tuổi nhà trẻ (0-2)", 4367)])
def test_a_thongtin_label_naming_another_age_range_is_not_its_row(tmp_path: Path, label: str, read_as: Any) -> None:
    book, _ = valid_book(1)
    book["ThongTin"] = [[label if row[0].startswith("Dân số độ tuổi nhà trẻ") else row[0], row[1]]
                        for row in thongtin_rows()]
    wb = read(tmp_path, book)
    assert wb.header.get("dan_so_0_2") == read_as
    if read_as is None:
        assert findings(wb, "missing_value") == [("error", "ThongTin", None, "dan_so_0_2", None)]


def test_a_course_row_with_its_numbers_written_with_units_is_read_and_reported_not_dropped(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    row = book["LopBoiDuong"][2]
    row[col("LopBoiDuong", "hinh_thuc")] = "Trực tiếp"
    row[col("LopBoiDuong", "so_hoc_vien")] = "30 người"
    row[col("LopBoiDuong", "so_hoan_thanh")] = "30 người"
    row[col("LopBoiDuong", "kinh_phi")] = "12,5 triệu"
    row[col("LopBoiDuong", "nguon_kinh_phi")] = "Ngân sách huyện"
    book["LopBoiDuong"].append([None, None, None, None, None, "16/06/2020"])  # a date under the table: no course
    wb = read(tmp_path, book)
    assert wb.tables["LopBoiDuong"]["_row"].tolist() == [2, 3]
    assert {(f.rule, f.row_number, f.column_key) for f in wb.findings if f.severity == "error"} == {
        ("invalid_value", 3, "hinh_thuc"), ("not_a_number", 3, "so_hoc_vien"), ("not_a_number", 3, "so_hoan_thanh"),
        ("not_a_number", 3, "kinh_phi"), ("invalid_value", 3, "nguon_kinh_phi")}
    assert findings(wb, "ignored_row") == [("info", "LopBoiDuong", 4, None, "16/06/2020")]


@pytest.mark.parametrize("hidden_first", [True, False])
def test_a_thongtin_item_in_a_hidden_row_gives_way_to_the_visible_one(tmp_path: Path, hidden_first: bool) -> None:
    # last year's school year and populations kept in hidden rows beside this year's
    book, _ = valid_book(1)
    rows = thongtin_rows()
    old = [["Năm học", "2018-2019"], ["Dân số trẻ 5 tuổi", "1.700"]]
    assert rows[3][0] == "Năm học" and rows[-1][0] == old[1][0]
    book["ThongTin"] = old + rows if hidden_first else rows + old
    hidden = [0, 1] if hidden_first else [len(rows), len(rows) + 1]
    wb = read(tmp_path, book, hidden_rows={"ThongTin": hidden})
    assert errors(wb) == []
    assert wb.header["nam_hoc"] == "2019-2020" and wb.header["dan_so_5"] == 1723
    assert {(f.row_number, f.column_key) for f in wb.findings if f.rule == "ignored_row"} == {
        (hidden[0] + 1, "nam_hoc"), (hidden[1] + 1, "dan_so_5")}
    assert wb.header_rows["nam_hoc"] == (6 if hidden_first else 4)  # the visible row, for the validator


def test_a_thongtin_item_written_twice_in_visible_rows_is_still_an_error(tmp_path: Path) -> None:
    book, _ = valid_book(1)
    book["ThongTin"] = thongtin_rows() + [["Năm học", "2018-2019"]]
    wb = read(tmp_path, book, hidden_rows={"ThongTin": []})
    assert findings(wb, "duplicate_value") == [("error", "ThongTin", len(thongtin_rows()) + 1, "nam_hoc", None)]


def test_a_thongtin_value_in_a_hidden_column_gives_way_to_the_visible_one(tmp_path: Path) -> None:
    # last year's values kept in a hidden column B, this year's typed in column C
    book, _ = valid_book(1)
    book["ThongTin"] = [[label, "2018-2019" if label == "Năm học" else 1000, value] for label, value in thongtin_rows()]
    wb = read(tmp_path, book, hidden_cols={"ThongTin": [1]})
    assert errors(wb) == []
    assert wb.header["nam_hoc"] == "2019-2020" and wb.header["dan_so_5"] == 1723
    assert ("info", "ThongTin", 4, "nam_hoc", "2018-2019") in findings(wb, "ignored_column")


@pytest.mark.parametrize("name", ["Bản sao của TruongLop", "Copy of TruongLop", "TruongLop - Bảng 1",
                                  "TruongLop - Table 1"])
def test_sheets_copied_in_google_sheets_or_numbers_are_matched(tmp_path: Path, name: str) -> None:
    """Google Sheets names a duplicated sheet `Bản sao của …` (`Copy of …`) and Apple Numbers exports a sheet's
    table as `… - Bảng 1`: the data are the template's sheet, read as such."""
    book, expected = valid_book(2)
    book = {name if k == "TruongLop" else k: v for k, v in book.items()}
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.sheet_names["TruongLop"] == name
    assert wb.tables["TruongLop"]["tre_mau_giao"].tolist() == [r["tre_mau_giao"] for r in expected["TruongLop"]]


def test_a_missing_sheet_names_the_sheets_the_file_has_instead(tmp_path: Path) -> None:
    """A renamed sheet: the clerk is told which of the file's sheets matched no template name, and what to call it."""
    book, _ = valid_book(1)
    book = {"Trường và lớp" if k == "TruongLop" else k: v for k, v in book.items()}
    wb = read(tmp_path, book)
    [missing] = [f for f in wb.findings if f.rule == "missing_sheet"]
    assert missing.sheet == "TruongLop"
    assert missing.message.endswith(
        "Tệp có trang tính không mang tên nào của biểu mẫu: 'Trường và lớp'; nếu số liệu nằm ở một trang trong "
        "đó, hãy đổi tên trang ấy thành 'TruongLop'.")


def test_a_column_without_header_text_holding_data_is_reported_a_spacer_is_not(tmp_path: Path) -> None:
    """Every ignored column is reported: one the clerk added without a title (or the second cell of a merged
    label) holds figures that are not read."""
    book, expected = valid_book(3)
    width = len(book["DoiNgu"][0])
    book["DoiNgu"] = [[*row, None, None if r == 0 else 7 * r] for r, row in enumerate(book["DoiNgu"])]
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["DoiNgu"]["gv_tong"].tolist() == [r["gv_tong"] for r in expected["DoiNgu"]]
    letter = get_column_letter(width + 2)
    [(severity, sheet, row, column, value)] = [f for f in findings(wb, "ignored_column") if f[1] == "DoiNgu"]
    assert (severity, sheet, row, column, value) == ("info", "DoiNgu", 1, None, "7")
    [message] = [f.message for f in wb.findings if f.rule == "ignored_column" and f.sheet == "DoiNgu"]
    assert message.startswith(f"Cột {letter} không có tên cột nhưng có dữ liệu ở 3 dòng (dòng 2, 3, 4)")


@pytest.mark.parametrize(("written", "hint"), [
    ("1,234", "; dấu phẩy là dấu thập phân: nếu là số 1234, hãy ghi 1234 hoặc 1.234"),
    ("-", "; nếu ý là không có (bằng 0), hãy ghi 0"),
    ("10-12", "; hãy ghi một số duy nhất"),
    ("12 người", "; chỉ ghi số (12), không ghi đơn vị hay chữ")])
def test_a_count_written_as_clerks_do_is_an_error_that_says_what_to_write(tmp_path: Path, written: str,
                                                                          hint: str) -> None:
    book, _ = valid_book(2)
    book["DoiNgu"][1][col("DoiNgu", "gv_tong")] = written
    wb = read(tmp_path, book)
    [finding] = [f for f in wb.findings if f.rule == "not_a_number"]
    assert (finding.sheet, finding.row_number, finding.column_key, finding.value) == ("DoiNgu", 2, "gv_tong", written)
    assert finding.message.endswith(f"không phải số nguyên hợp lệ{hint}.")
