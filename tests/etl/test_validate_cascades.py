"""One problem in a district file, one finding: no follow-on finding that contradicts what the clerk sees.

Each case takes a freshly generated valid workbook of Vân Hồ (district 128, 7 schools 14128001..14128007,
plain layout: labels row 2, keys row 3, schools from row 4), breaks ONE thing with openpyxl, reads it with
the reader and validates it, and asserts every finding (severity, rule, sheet, row, column): the root
problem, and none of the findings that only repeat it through cells, rows or codes it makes unreliable.
Each cascade also has a case with a second, independent problem in the same file, which must still be
reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from etl.config import PROJECT_ROOT, ProvinceConfig
from etl.generate import generate_district_workbook
from etl.model import ParsedWorkbook
from etl.read import read_workbook
from etl.validate import validate_workbooks

SON_LA = ProvinceConfig(PROJECT_ROOT / "config" / "provinces" / "son-la")
NAM_HOC, KY = "2019-2020", "CN"
KEY_ROW = 3
FIRST_SCHOOL_ROW = 4
N_SCHOOLS = 7
TL, DN, DG, BD = "TruongLop", "DoiNgu", "DanhGiaChuan", "BoiDuong"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return generate_district_workbook(
        SON_LA, "128", NAM_HOC, KY, tmp_path_factory.mktemp("base") / "128.xlsx")


def column_of(ws, key: str) -> int:
    for cell in ws[KEY_ROW]:
        if cell.value == key:
            return cell.column
    raise KeyError(key)


def letter(ws, key: str) -> str:
    return openpyxl.utils.get_column_letter(column_of(ws, key))


def checked(base: Path, tmp_path: Path, *edits: Callable) -> ParsedWorkbook:
    book = openpyxl.load_workbook(base)
    for edit in edits:
        edit(book)
    path = tmp_path / "broken.xlsx"
    book.save(path)
    wb = read_workbook(path)
    validate_workbooks([wb], SON_LA, expected_period=(NAM_HOC, KY))
    return wb


def found(wb: ParsedWorkbook) -> list[tuple]:
    """Every finding but info, as (severity, rule, sheet, row, column), sorted."""
    return sorted((f.severity, f.rule, f.sheet, f.row_number or 0, f.column_key or "")
                   for f in wb.findings if f.severity != "info")


def merge(sheet: str, key: str, first: int, last: int) -> Callable:
    def edit(book) -> None:
        ws = book[sheet]
        ws.merge_cells(f"{letter(ws, key)}{first}:{letter(ws, key)}{last}")
    return edit


def set_value(sheet: str, row: int, key: str | None, value) -> Callable:
    """Set a cell by its template key (ThongTin, key None: the value in column B)."""
    def edit(book) -> None:
        ws = book[sheet]
        ws.cell(row=row, column=2 if key is None else column_of(ws, key)).value = value
    return edit


def add_to(sheet: str, row: int, key: str, delta: int) -> Callable:
    def edit(book) -> None:
        cell = book[sheet].cell(row=row, column=column_of(book[sheet], key))
        cell.value = int(cell.value) + delta
    return edit


def totals_row(sheet: str) -> Callable:
    """A 'Tổng cộng' row under the schools with the right sums of the file as generated."""
    def edit(book) -> None:
        ws = book[sheet]
        row = FIRST_SCHOOL_ROW + N_SCHOOLS
        ws.cell(row=row, column=1).value = "Tổng cộng"
        for c in range(3, ws.max_column + 1):
            values = [ws.cell(row=r, column=c).value for r in range(FIRST_SCHOOL_ROW, row)]
            if all(isinstance(v, int) for v in values):
                ws.cell(row=row, column=c).value = sum(values)
    return edit


# ------------------------------------------------------------------------------ merged cells over two schools


def test_a_count_merged_over_two_schools_is_one_finding_not_a_zero_for_the_second(base, tmp_path):
    # F4:F5 'Số lớp mẫu giáo': the second school's cell is covered, not 0; before, its 'lớp 5 tuổi = 5 > 0'
    # (exceeds_total), '∞ trẻ mỗi lớp' (class_size) and the teachers per class (teacher_ratio) were reported
    wb = checked(base, tmp_path, merge(TL, "so_lop_mau_giao", 4, 5))
    assert found(wb) == [("error", "merged_cells", TL, 5, "so_lop_mau_giao")]
    table = wb.tables[TL].set_index("_row")
    assert table.loc[4, "so_lop_mau_giao"] > 0 and pd.isna(table.loc[5, "so_lop_mau_giao"])  # unknown, not 0


def test_a_total_merged_over_two_schools_is_not_compared_as_0_with_the_other_sheets(base, tmp_path):
    # K4:K5 'Tổng số giáo viên': before, 2 sum_mismatch, exceeds_total, teacher_ratio and 8 cross-sheet
    # exceeds_total said the second school has 0 teachers
    wb = checked(base, tmp_path, merge(DN, "gv_tong", 4, 5))
    assert found(wb) == [("error", "merged_cells", DN, 5, "gv_tong")]


def test_a_merged_count_is_not_summed_as_0_against_the_totals_row(base, tmp_path):
    wb = checked(base, tmp_path, totals_row(TL), merge(TL, "so_lop_mau_giao", 4, 5))
    assert found(wb) == [("error", "merged_cells", TL, 5, "so_lop_mau_giao")]


def test_a_type_merged_over_three_schools_is_not_also_three_missing_values(base, tmp_path):
    wb = checked(base, tmp_path, merge(TL, "loai_hinh", 4, 6))
    assert found(wb) == [("error", "merged_cells", TL, 5, "loai_hinh")]


def test_a_merged_range_leaves_the_other_problems_of_its_rows_and_sheet_reported(base, tmp_path):
    # the merged school's other cells are still checked, and the totals row's other columns
    wb = checked(base, tmp_path, totals_row(TL), merge(TL, "so_lop_mau_giao", 4, 5),
                 add_to(TL, 5, "tre_5_tuoi", 1000))  # the second school: 5-year-olds > preschool children
    assert found(wb) == [
        ("error", "exceeds_total", TL, 5, "tre_5_tuoi"),
        ("error", "merged_cells", TL, 5, "so_lop_mau_giao"),
        ("warning", "totals_row_mismatch", TL, 11, "tre_5_tuoi"),
    ]


# ------------------------------------------------------------------------------ a negative count


def test_a_negative_count_is_one_finding_not_also_the_sums_it_breaks(base, tmp_path):
    # '-6' for 6 teachers with a university degree (a stray minus): before, the row's sum_mismatch
    # ('0 + 3 + 5 + -6 + 0 = 2') and the totals row's mismatch repeated it
    wb = checked(base, tmp_path, totals_row(DN), set_value(DN, 4, "gv_td_dai_hoc", -6))
    assert found(wb) == [("error", "negative", DN, 4, "gv_td_dai_hoc")]


def test_a_negative_population_is_not_compared_with_the_population_it_is_part_of(base, tmp_path):
    wb = checked(base, tmp_path, set_value("ThongTin", 11, None, -6100))
    assert found(wb) == [("error", "negative", "ThongTin", 11, "dan_so_3_5")]


def test_beside_a_negative_count_the_other_rows_and_columns_are_still_checked(base, tmp_path):
    wb = checked(base, tmp_path, totals_row(DN), set_value(DN, 4, "gv_td_dai_hoc", -6),
                 add_to(DN, 4, "cbql_dang_vien", 10),  # the same row: party members > managers
                 add_to(DN, 6, "gv_td_cao_dang", 1))  # another school's qualifications: 1 too many
    assert found(wb) == [
        ("error", "exceeds_total", DN, 4, "cbql_dang_vien"),
        ("error", "negative", DN, 4, "gv_td_dai_hoc"),
        ("error", "sum_mismatch", DN, 6, "gv_tong"),
        ("warning", "totals_row_mismatch", DN, 11, "cbql_dang_vien"),
        ("warning", "totals_row_mismatch", DN, 11, "gv_td_cao_dang"),
    ]


# ------------------------------------------------------------------------------ the code of another district


def test_the_code_of_another_district_is_one_finding_not_every_school_foreign_and_missing(base, tmp_path):
    # Vân Hồ's file with Quỳnh Nhai's code 118: before, 77 findings (each of the 28 school rows 'không thuộc
    # đơn vị 118', each of Quỳnh Nhai's 12 schools missing from each sheet, the district name)
    wb = checked(base, tmp_path, set_value("ThongTin", 2, None, "118"))
    assert found(wb) == [("error", "district_mismatch", "ThongTin", 2, "ma_don_vi")]
    message = next(f.message for f in wb.findings if f.rule == "district_mismatch")
    assert "'118'" in message and "Quỳnh Nhai" in message  # what was written, whose code it is
    assert "128" in message and "Vân Hồ" in message  # whose schools the file holds


def test_beside_the_code_of_another_district_its_schools_are_still_checked_against_their_district(
        base, tmp_path):
    # the schools are checked as the district they belong to: one left out, an unknown code, a row twice
    def drop_last_school(book) -> None:
        book[DN].delete_rows(FIRST_SCHOOL_ROW + N_SCHOOLS - 1)

    def repeat_first_school(book) -> None:
        ws = book[TL]
        for c in range(1, ws.max_column + 1):
            ws.cell(row=FIRST_SCHOOL_ROW + N_SCHOOLS, column=c).value = ws.cell(row=FIRST_SCHOOL_ROW, column=c).value

    wb = checked(base, tmp_path, set_value("ThongTin", 2, None, "118"), drop_last_school, repeat_first_school,
                 set_value(BD, 6, "ma_truong", "14128099"))
    assert found(wb) == [
        ("error", "district_mismatch", "ThongTin", 2, "ma_don_vi"),
        ("error", "duplicate_school", TL, 11, "ma_truong"),
        ("error", "missing_school", DN, 0, "ma_truong"),
        ("error", "unknown_school", BD, 6, "ma_truong"),  # the row of 14128003 by its name (see below)
    ]
    assert [f.value for f in wb.findings if f.rule == "missing_school"] == ["14128007"]


def test_a_school_of_a_neighbouring_district_among_the_districts_own_is_still_told(base, tmp_path):
    wb = checked(base, tmp_path, set_value(DN, 5, "ma_truong", "14118001"),
                 set_value(DN, 5, "ten_truong", "Trường Mầm non Cà Nàng"))
    assert found(wb) == [("error", "missing_school", DN, 0, "ma_truong"),
                         ("error", "unknown_school", DN, 5, "ma_truong")]
    assert "thuộc đơn vị 118" in next(f.message for f in wb.findings if f.rule == "unknown_school")


# ------------------------------------------------------------------------------ a school code mistyped


@pytest.mark.parametrize(("code", "why"), [
    ("14128008", "in no registry"),
    ("1412801", "a digit lost"),
    ("14118001", "a school of Quỳnh Nhai"),
    ("14128002", "the next school's code: that school is then listed twice"),
])
def test_a_mistyped_school_code_is_one_finding_naming_the_code_of_the_school_written(base, tmp_path, code, why):
    # row 4 is Vân Hồ (14128001) by its name; before, the sheet also said Vân Hồ was missing (and, for an
    # existing code, that the other school was listed twice and its name was not the row's)
    wb = checked(base, tmp_path, set_value(DN, 4, "ma_truong", code))
    assert found(wb) == [("error", "unknown_school", DN, 4, "ma_truong")], why
    message = next(f.message for f in wb.findings if f.rule == "unknown_school")
    assert f"'{code}'" in message and "'14128001'" in message and "Vân Hồ" in message


def test_a_mistyped_code_in_a_training_sheet_is_not_also_a_school_left_out(base, tmp_path):
    wb = checked(base, tmp_path, set_value(BD, 6, "ma_truong", "14128099"))
    assert found(wb) == [("error", "unknown_school", BD, 6, "ma_truong")]


def test_an_unknown_code_whose_name_is_no_missing_school_leaves_the_missing_school_reported(base, tmp_path):
    # the row names another school: which of the two is meant is not written, both findings stay
    wb = checked(base, tmp_path, set_value(DN, 4, "ma_truong", "14128099"),
                 set_value(DN, 4, "ten_truong", "Trường Mầm non Hoa Ban"))
    assert found(wb) == [("error", "missing_school", DN, 0, "ma_truong"),
                         ("error", "unknown_school", DN, 4, "ma_truong")]


def test_beside_a_mistyped_code_another_school_left_out_and_a_row_twice_are_told(base, tmp_path):
    def drop_last_school(book) -> None:
        book[DN].delete_rows(FIRST_SCHOOL_ROW + N_SCHOOLS - 1)

    wb = checked(base, tmp_path, set_value(DN, 4, "ma_truong", "14128008"), drop_last_school,
                 set_value(DN, 6, "ma_truong", "14128002"), set_value(DN, 6, "ten_truong", "Trường MN Chiềng Khoa"))
    assert found(wb) == [
        ("error", "duplicate_school", DN, 6, "ma_truong"),
        ("error", "missing_school", DN, 0, "ma_truong"),
        ("error", "missing_school", DN, 0, "ma_truong"),
        ("error", "unknown_school", DN, 4, "ma_truong"),
    ]
    assert sorted(f.value for f in wb.findings if f.rule == "missing_school") == ["14128003", "14128007"]


def test_a_school_named_as_another_that_is_left_out_is_not_taken_for_a_mistyped_code(base, tmp_path):
    # row 5 has Chiềng Khoa's code, listed once, under Vân Hồ's name, and Vân Hồ's row is gone: the code may be
    # right (and the name copied) or not; both findings stay, as before
    def drop_first_school(book) -> None:
        book[DN].delete_rows(FIRST_SCHOOL_ROW)

    wb = checked(base, tmp_path, set_value(DN, 5, "ten_truong", "Trường Mầm non Vân Hồ"), drop_first_school)
    assert found(wb) == [("error", "missing_school", DN, 0, "ma_truong"),
                         ("warning", "name_mismatch", DN, 4, "ten_truong")]
