"""etl/read.py, the CSV variant as export tools and people write it: Google Sheets' file names, tab separated
files, exporters' empty cells and booleans, English thousands separators, and ThongTin as a one-row table."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pytest

from etl.read import read_workbook
from tests.etl.test_read import LAYOUT, Book, col, errors, findings, thongtin_rows, valid_book


def rows_text(rows: list[list[Any]], delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerows(
        ["" if c is None else c for c in row] for row in rows)
    return out.getvalue()


def write_zip(path: Path, book: Book, *, name: str = "{}.csv", delimiter: str = ",",
              quoting: int = csv.QUOTE_MINIMAL) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for sheet, rows in book.items():
            archive.writestr(name.format(sheet), rows_text(rows, delimiter, quoting).encode())
    return path


def copy(book: Book) -> Book:
    return {sheet: [list(row) for row in rows] for sheet, rows in book.items()}


def test_google_sheets_downloads_named_spreadsheet_dash_sheet_are_the_sheets(tmp_path: Path) -> None:
    # Google Sheets names a sheet's CSV download `<spreadsheet> - <sheet>.csv`
    book, expected = valid_book(2)
    wb = read_workbook(write_zip(tmp_path / "gs.zip", book, name="Báo cáo Quỳnh Nhai - {}.csv"))
    assert errors(wb) == []
    assert findings(wb, "ignored_sheet") == []
    assert wb.header["ma_don_vi"] == "118"
    assert wb.tables["TruongLop"].drop(columns="_row").to_dict("records") == expected["TruongLop"]


def test_a_google_sheets_download_beside_the_same_sheet_is_a_duplicate_sheet(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    path = write_zip(tmp_path / "gs.zip", book)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("Book - TruongLop.csv", rows_text(book["TruongLop"]))
    wb = read_workbook(path)
    assert findings(wb, "duplicate_sheet") == [("error", "Book - TruongLop", None, None, None)]


def test_a_tab_separated_export_is_read_as_the_comma_separated_one(tmp_path: Path) -> None:
    # LibreOffice's field delimiter {Tab}, pandas' sep="\t": every field quoted, names with commas
    book, expected = valid_book(2)
    book["ThongTin"] = thongtin_rows(ten_don_vi="Phòng GD&ĐT huyện Quỳnh Nhai, tỉnh Sơn La")
    wb = read_workbook(write_zip(tmp_path / "tab.zip", book, delimiter="\t", quoting=csv.QUOTE_ALL))
    assert errors(wb) == []
    assert wb.header["ten_don_vi"] == "Phòng GD&ĐT huyện Quỳnh Nhai, tỉnh Sơn La"
    assert wb.header["dan_so_0_2"] == 4367
    assert wb.tables["TruongLop"].drop(columns="_row").to_dict("records") == expected["TruongLop"]
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [r["kinh_phi"] for r in expected["LopBoiDuong"]]


@pytest.mark.parametrize("written", ["NULL", "null", "NaN", "nan", "None", "NA", "<NA>", "\\N"])
def test_what_exporters_write_for_an_empty_cell_is_an_empty_cell(tmp_path: Path, written: str) -> None:
    # pandas, R and SQL clients write an empty cell so: a count 0, as an empty cell of the workbook
    book, _ = valid_book(2)
    book["TruongLop"][1][col("TruongLop", "so_nhom_tre")] = written
    book["DoiNgu"][2][col("DoiNgu", "gv_nghi_huu")] = written
    wb = read_workbook(write_zip(tmp_path / "null.zip", book))
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["so_nhom_tre"].tolist()[0] == 0
    assert wb.tables["DoiNgu"]["gv_nghi_huu"].tolist()[1] == 0


@pytest.mark.parametrize(("written", "read_as"), [("TRUE", 1), ("FALSE", 0), ("True", 1), ("false", 0),
                                                  ("1.0", 1), ("0.0", 0), ("1.00", 1)])
def test_a_flag_written_as_a_boolean_or_a_float_is_read_as_the_workbook_reads_it(
    tmp_path: Path, written: str, read_as: int
) -> None:
    # Excel writes a TRUE cell as `TRUE`, pandas a flag column holding an empty cell as `1.0`; the workbook's
    # cells are read as 1 and 1
    book, _ = valid_book(2)
    book["TruongLop"][1][col("TruongLop", "dat_chuan_qg")] = written
    book["TruongLop"][2][col("TruongLop", "dat_chuan_qg")] = written
    wb = read_workbook(write_zip(tmp_path / "flag.zip", book))
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["dat_chuan_qg"].tolist() == [read_as, read_as]


def test_a_flag_typed_as_another_word_is_still_reported(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    book["TruongLop"][1][col("TruongLop", "dat_chuan_qg")] = "yes"
    wb = read_workbook(write_zip(tmp_path / "flag.zip", book))
    assert findings(wb, "invalid_value") == [("error", "TruongLop", 2, "dat_chuan_qg", "yes")]


def test_r_s_scientific_whole_numbers_are_read_and_excel_s_shortened_ones_are_not(tmp_path: Path) -> None:
    # R writes 100000 as `1e+05` (exactly); Excel writes a code in too narrow a column as `1.4118E+07`
    book, _ = valid_book(2)
    book["ThongTin"] = thongtin_rows(dan_so_0_2="1e+05", dan_so_3_5="2e+05")
    book["TruongLop"][1][col("TruongLop", "ma_truong")] = "1.4118E+07"
    wb = read_workbook(write_zip(tmp_path / "sci.zip", book))
    assert (wb.header["dan_so_0_2"], wb.header["dan_so_3_5"]) == (100000, 200000)
    assert findings(wb, "unlabelled_row") == [("error", "TruongLop", 2, "ma_truong", "1.4118E+07")]


def test_english_thousands_separators_of_a_comma_separated_export(tmp_path: Path) -> None:
    # Excel under English settings writes a cell formatted `#,##0` as "1,234" in a `,` file: one thousand
    # two hundred and thirty-four, a count or an amount; before, counts were `not_a_number` and the amount
    # `1,250` silently 1.25
    book, _ = valid_book(2)
    book["ThongTin"] = thongtin_rows(dan_so_0_2="4,367", dan_so_3_5="5,104")
    book["TruongLop"][1][col("TruongLop", "tre_mau_giao")] = "1,234"
    book["LopBoiDuong"][1][col("LopBoiDuong", "kinh_phi")] = "1,250"
    book["LopBoiDuong"][2][col("LopBoiDuong", "kinh_phi")] = "1,250.50"
    wb = read_workbook(write_zip(tmp_path / "en.zip", book))
    assert errors(wb) == []
    assert (wb.header["dan_so_0_2"], wb.header["dan_so_3_5"]) == (4367, 5104)
    assert wb.tables["TruongLop"]["tre_mau_giao"].tolist()[0] == 1234
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [1250.0, 1250.5]


def test_a_comma_separated_file_written_with_vietnamese_numbers_keeps_them(tmp_path: Path) -> None:
    # LibreOffice under Vietnamese settings saves cells as shown, whatever the delimiter: `12,5` says the
    # comma is the file's decimal separator, so its `1.250` is one thousand two hundred and fifty, not 1.25
    book, _ = valid_book(2)
    book["LopBoiDuong"][1][col("LopBoiDuong", "kinh_phi")] = "1.250"
    book["LopBoiDuong"][2][col("LopBoiDuong", "kinh_phi")] = "12,5"
    wb = read_workbook(write_zip(tmp_path / "vi.zip", book))
    assert errors(wb) == []
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [1250.0, 12.5]


def test_thongtin_as_a_one_row_table_of_keys_or_labels(tmp_path: Path) -> None:
    # a machine's SELECT of the submission header: the items in one row, the values under them
    book, _ = valid_book(2)
    spec = LAYOUT.sheets["ThongTin"]
    values = [row[1] for row in thongtin_rows()]
    for head in ([c.key for c in spec.columns], [c.label_vi for c in spec.columns]):
        book["ThongTin"] = [head, values]
        wb = read_workbook(write_zip(tmp_path / "wide.zip", book))
        assert errors(wb) == []
        assert wb.period == ("118", "2019-2020", "CN")
        assert (wb.header["nguoi_lap"], wb.header["dan_so_5"]) == ("Vì Thị Xuân", 1723)
        assert wb.header_rows["ma_don_vi"] == 2  # the validator's findings point at the values' row


def test_thongtin_as_a_table_reports_a_bad_value_at_its_cell_and_two_rows_as_a_finding(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    spec = LAYOUT.sheets["ThongTin"]
    values = [row[1] for row in thongtin_rows(dan_so_5="nhiều", nguoi_lap=None)]
    book["ThongTin"] = [[c.key for c in spec.columns], values]
    wb = read_workbook(write_zip(tmp_path / "wide.zip", book))
    assert findings(wb, "not_a_number") == [("error", "ThongTin", 2, "dan_so_5", "nhiều")]
    assert findings(wb, "missing_value") == [("error", "ThongTin", 2, "nguoi_lap", None)]
    book["ThongTin"] = [[c.key for c in spec.columns], values, values]
    wb = read_workbook(write_zip(tmp_path / "two.zip", book))
    assert findings(wb, "duplicate_value") == [("error", "ThongTin", 3, None, None)]
    assert "dòng 2 và dòng 3" in next(f.message for f in wb.findings if f.rule == "duplicate_value")


def test_thongtin_rows_of_key_label_and_value(tmp_path: Path) -> None:
    # the template's rows exported whole: the label after the key is no value (before, `Mã đơn vị` was the
    # district code and `Người lập biểu` the clerk)
    book, _ = valid_book(2)
    spec = LAYOUT.sheets["ThongTin"]
    book["ThongTin"] = [["Mục", "Nội dung", "Giá trị"],
                        *[[c.key, c.label_vi, v] for c, (_, v) in zip(spec.columns, thongtin_rows(), strict=True)]]
    wb = read_workbook(write_zip(tmp_path / "kv3.zip", book))
    assert errors(wb) == []
    assert wb.period == ("118", "2019-2020", "CN") and wb.header["nguoi_lap"] == "Vì Thị Xuân"


VIETNAMESE_NAMES = {"ThongTin": "Thông tin", "TruongLop": "Trường lớp", "DoiNgu": "Đội ngũ",
                    "DanhGiaChuan": "Đánh giá chuẩn", "BoiDuong": "Bồi dưỡng", "LopBoiDuong": "Lớp bồi dưỡng"}


def _encoded(text: str, encoding: str) -> bytes:
    """`text` as Windows writes it in `encoding`: cp1258 has the letters with their vowel marks (ô, ơ, ư) but
    writes a tone as a combining mark after them (ờ is ơ + grave)."""
    out = b""
    for ch in text:
        try:
            out += ch.encode(encoding)
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in nfd if c in "\u0300\u0301\u0303\u0309\u0323")
            letter = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in tones))
            out += (letter + tones).encode(encoding)
    return out


@pytest.mark.parametrize("encoding", ["utf-8", "cp1258"])
def test_vietnamese_member_names_stored_without_the_utf8_mark_are_the_sheets(tmp_path: Path, encoding: str) -> None:
    """Windows' "Compressed folder" and Info-ZIP store names without the zip's UTF-8 flag, in UTF-8 or in the
    Windows code page; zipfile reads them as cp437 (`Th├┤ng tin.csv`), which named no sheet."""
    book, expected = valid_book(2)
    placeholders = {}
    path = tmp_path / "nen.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i, (sheet, rows) in enumerate(book.items()):
            raw = _encoded(f"{VIETNAMESE_NAMES[sheet]}.csv", encoding)
            placeholder = f"{i}".ljust(len(raw) - 4, "_") + ".csv"  # ASCII: stored without the flag
            placeholders[placeholder.encode()] = raw
            archive.writestr(placeholder, rows_text(rows).encode())
    data = path.read_bytes()
    for placeholder, raw in placeholders.items():
        data = data.replace(placeholder, raw)  # the local header's name and the directory's
    path.write_bytes(data)
    wb = read_workbook(path)
    assert errors(wb) == []
    assert wb.sheet_names["ThongTin"] == "Thông tin"
    assert wb.tables["TruongLop"].drop(columns="_row").to_dict("records") == expected["TruongLop"]
