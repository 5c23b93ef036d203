"""Every rule code, end to end: a workbook that breaks it, ingested for real into the warehouse.

For each rule code of docs/rules.md that a district workbook can trigger (all but `outlier`, which
compares districts after the roll-up), one case takes a freshly generated valid workbook of Vân Hồ
(district 128, 7 schools, plain layout: title row 1, label row 2, key row 3, schools from row 4;
ThongTin: labels in column A, values in column B, one item a row), breaks that one rule with openpyxl
(or writes a broken file), ingests it through `etl.ingest.ingest_files` and checks, in the warehouse:

* the verdict (rejected for any error, accepted for warnings and info only);
* that the expected finding is among the submission's dq.issue rows: severity, rule, sheet as written
  in the file, Excel row, template column key, and the value as written where one is meaningful;
* that dq.submission's status, n_errors and n_warnings agree with the verdict and the dq.issue rows;
* for a rejected file, that nothing of it is in core (and that it is in quarantine); for an accepted
  one, that its schools are staged, and in core while it is the current submission of its period.

All cases go through one warehouse (a database per case would cost a second each): the valid base
workbooks first, then every broken file in one `ingest_files` batch, as the nightly run ingests a
landing folder. Each file is its own submission; rejections never change core, and the accepted ones
(warnings, info) supersede one another within their period. A case whose finding the pipeline does not
report as the spec requires is marked xfail(strict=True) with the bug in its reason.

The unit tests of the reader (tests/etl/test_read.py) and the validator (tests/etl/test_validate.py)
check the same rules on in-memory objects; this module is the acceptance criterion "for every rule
code, a test with a workbook that breaks it, asserting the dq.issue row and the verdict".
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from etl.generate import generate_district_workbook
from etl.ingest import ingest_files
from etl.names import stored_name
from tests.conftest import fresh_database

MA_DON_VI = "128"  # Vân Hồ, 7 schools 14128001..14128007, all open since 2010-2011
NAM_HOC = "2019-2020"
RANK_IV_NAM_HOC = "2021-2022"  # rank IV abolished: a gv_hang_4 > 0 is a warning from this year on
NEXT_NAM_HOC = "2020-2021"  # yoy_change: compared with the accepted 2019-2020 base
KEY_ROW = 3  # the generator's plain layout: title, labels, keys, then one row per school
FIRST_SCHOOL_ROW = 4
N_SCHOOLS = 7
LAST_SCHOOL_ROW = FIRST_SCHOOL_ROW + N_SCHOOLS - 1
# ThongTin rows as generated (label in A, value in B)
THONG_TIN_ROW = {
    "phien_ban": 1, "ma_don_vi": 2, "ten_don_vi": 3, "nam_hoc": 4, "ky_bao_cao": 5, "nguoi_lap": 6,
    "dien_thoai": 7, "email": 8, "ngay_lap": 9, "dan_so_0_2": 10, "dan_so_3_5": 11, "dan_so_5": 12,
}

ANY = object()  # the expected value is not checked


# ------------------------------------------------------------------------------------------ workbook edits


def key_column(sheet, key: str) -> int:
    """1-based column of a template key in the key row."""
    for cell in sheet[KEY_ROW]:
        if cell.value == key:
            return cell.column
    raise KeyError(f"{sheet.title}: no column {key}")


def cell(book, sheet: str, row: int, key: str):
    return book[sheet].cell(row=row, column=key_column(book[sheet], key))


def school_row(n: int) -> int:
    """Excel row of the n-th school (1-based) in a per-school sheet."""
    return FIRST_SCHOOL_ROW + n - 1


def set_value(sheet: str, row: int, key: str, value) -> Callable:
    def edit(book) -> None:
        cell(book, sheet, row, key).value = value
    return edit


def set_info(key: str, value) -> Callable:
    """Set a ThongTin value (column B of the item's row)."""
    def edit(book) -> None:
        book["ThongTin"].cell(row=THONG_TIN_ROW[key], column=2).value = value
    return edit


def append_row(sheet: str, values: dict | list) -> Callable:
    """Append a row under the table: a dict by template key, or a list of cells from column A."""
    def edit(book) -> None:
        ws = book[sheet]
        row = ws.max_row + 1
        if isinstance(values, dict):
            for key, value in values.items():
                ws.cell(row=row, column=key_column(ws, key)).value = value
        else:
            for c, value in enumerate(values, start=1):
                ws.cell(row=row, column=c).value = value
    return edit


def copy_row(sheet: str, source: int, **changes) -> Callable:
    """Append a copy of an existing row, with some keys changed."""
    def edit(book) -> None:
        ws = book[sheet]
        row = ws.max_row + 1
        for c in range(1, ws.max_column + 1):
            ws.cell(row=row, column=c).value = ws.cell(row=source, column=c).value
        for key, value in changes.items():
            ws.cell(row=row, column=key_column(ws, key)).value = value
    return edit


def delete_row(sheet: str, row: int) -> Callable:
    def edit(book) -> None:
        book[sheet].delete_rows(row)
    return edit


def delete_column(sheet: str, key: str) -> Callable:
    def edit(book) -> None:
        ws = book[sheet]
        ws.delete_cols(key_column(ws, key))
    return edit


def add_column(sheet: str, label: str, key: str | None, values: list) -> Callable:
    """A new column after the last one: label in row 2, key (or nothing) in row 3, then one value per school."""
    def edit(book) -> None:
        ws = book[sheet]
        c = ws.max_column + 1
        ws.cell(row=KEY_ROW - 1, column=c).value = label
        ws.cell(row=KEY_ROW, column=c).value = key
        for i, value in enumerate(values):
            ws.cell(row=FIRST_SCHOOL_ROW + i, column=c).value = value
    return edit


def grouped_header(sheet: str, group: str, keys: list[str], sub_labels: list[str]) -> Callable:
    """The header over two rows: `group` merged in row 1 (the title row, emptied) over the columns of `keys`, whose
    labels in row 2 become `sub_labels`; the key row removed (the schools move up a row)."""
    def edit(book) -> None:
        ws = book[sheet]
        columns = [key_column(ws, key) for key in keys]
        for merged in [m for m in ws.merged_cells.ranges if m.min_row == 1]:
            ws.unmerge_cells(str(merged))
        for c in range(1, ws.max_column + 1):
            ws.cell(row=1, column=c).value = None
        ws.delete_rows(KEY_ROW)
        ws.cell(row=1, column=columns[0]).value = group
        ws.merge_cells(start_row=1, start_column=columns[0], end_row=1, end_column=columns[-1])
        for c, label in zip(columns, sub_labels, strict=True):
            ws.cell(row=2, column=c).value = label
    return edit


def delete_sheet(name: str) -> Callable:
    def edit(book) -> None:
        del book[name]
    return edit


def compose(*edits: Callable) -> Callable:
    def edit(book) -> None:
        for e in edits:
            e(book)
    return edit


def add_to(sheet: str, row: int, key: str, delta: int) -> Callable:
    def edit(book) -> None:
        c = cell(book, sheet, row, key)
        c.value = int(c.value) + delta
    return edit


def exceed(sheet: str, row: int, key: str, bound_sheet: str, bound_key: str, by: int = 1) -> Callable:
    """Set `key` to the value of `bound_key` (same row, maybe another sheet) plus `by`."""
    def edit(book) -> None:
        cell(book, sheet, row, key).value = int(cell(book, bound_sheet, row, bound_key).value) + by
    return edit


def move_teacher_to_rank_iv(row: int) -> Callable:
    """One rank-III teacher of the school in `row` written as rank IV (the rank sum still equals gv_tong)."""
    def edit(book) -> None:
        hang_3 = cell(book, "DoiNgu", row, "gv_hang_3")
        assert int(hang_3.value) > 0
        hang_3.value = int(hang_3.value) - 1
        cell(book, "DoiNgu", row, "gv_hang_4").value = 1
    return edit


def totals_row(sheet: str, off_key: str, off_by: int) -> Callable:
    """A 'Tổng cộng' row under the schools: the right column sums, except `off_key` off by `off_by`."""
    def edit(book) -> None:
        ws = book[sheet]
        row = ws.max_row + 1
        ws.cell(row=row, column=1).value = "Tổng cộng"
        for c in range(3, ws.max_column + 1):
            values = [ws.cell(row=r, column=c).value for r in range(FIRST_SCHOOL_ROW, LAST_SCHOOL_ROW + 1)]
            if all(isinstance(v, int) for v in values):
                total = sum(values) + (off_by if ws.cell(row=KEY_ROW, column=c).value == off_key else 0)
                ws.cell(row=row, column=c).value = total
    return edit


def empty_table(sheet: str) -> Callable:
    """Keep the title, label and key rows, remove every school row."""
    def edit(book) -> None:
        book[sheet].delete_rows(FIRST_SCHOOL_ROW, N_SCHOOLS)
    return edit


def remove_header(sheet: str) -> Callable:
    """Blank the label and key rows: no header row left in the first 15 rows."""
    def edit(book) -> None:
        ws = book[sheet]
        for row in (KEY_ROW - 1, KEY_ROW):
            for c in range(1, ws.max_column + 1):
                ws.cell(row=row, column=c).value = None
    return edit


def second_table(sheet: str) -> Callable:
    """A blank row, then the label and key rows and one school repeated below the table."""
    def edit(book) -> None:
        ws = book[sheet]
        start = ws.max_row + 2
        for offset, source in enumerate((KEY_ROW - 1, KEY_ROW, FIRST_SCHOOL_ROW)):
            for c in range(1, ws.max_column + 1):
                ws.cell(row=start + offset, column=c).value = ws.cell(row=source, column=c).value
    return edit


def extra_sheet(title: str) -> Callable:
    def edit(book) -> None:
        ws = book.create_sheet(title)
        ws["A1"] = "Ghi chú của Phòng GD&ĐT: số liệu đã được Trưởng phòng ký duyệt."
    return edit


def duplicate_sheet(name: str, title: str) -> Callable:
    def edit(book) -> None:
        book.copy_worksheet(book[name]).title = title
    return edit


def info_row(label: str, value) -> Callable:
    def edit(book) -> None:
        ws = book["ThongTin"]
        row = ws.max_row + 1
        ws.cell(row=row, column=1).value = label
        ws.cell(row=row, column=2).value = value
    return edit


# ------------------------------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class Case:
    """One broken workbook and what the warehouse must say about it."""

    id: str
    edit: Callable | None  # applied to the loaded base workbook; None with `write`
    expect: tuple  # (severity, rule, sheet as written, Excel row, column key)
    status: str  # the verdict
    value: object = ANY  # dq.issue.value, as written; ANY = not checked
    in_message: tuple[str, ...] = ()  # words the Vietnamese message must hold
    nam_hoc: str = NAM_HOC  # which generated base workbook
    write: Callable[[Path], None] | None = None  # writes a broken file from scratch instead
    settings: dict = field(default_factory=dict)  # Settings fields replaced for this ingest
    xfail: str | None = None


DOI_NGU_1 = school_row(1)
BUG_THONG_TIN_ROW = (
    "ThongTin findings of the validator carry no Excel row: etl/validate.py looks the row up in "
    "ParsedWorkbook.header_rows by ThongTin key (header_rows.get(column)), but etl/read.py fills header_rows "
    "with each table sheet's header row, keyed by sheet name, and never records the rows of the ThongTin "
    "items, so dq.issue.row_number is NULL (tests/etl/test_validate.py builds header_rows by key by hand)"
)
BUG_ROUND_RULE = (
    "a 'Kỳ báo cáo' other than HKI/CN is reported by the reader as invalid_value (its enumeration), and the "
    "value is dropped, so the documented wrong_period rule of expectations/thong_tin.json for ky_bao_cao "
    "(docs/rules.md; spec: a wrong period is a structural error, rule wrong_period) never fires"
)


def _write_junk(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")


CASES = [
    # -- sum rules and <= rules
    Case("sum_mismatch", add_to("DoiNgu", DOI_NGU_1, "cbql_td_dai_hoc", 2),
         ("error", "sum_mismatch", "DoiNgu", DOI_NGU_1, "cbql_tong"), "rejected"),
    Case("exceeds_total.within_sheet", exceed("TruongLop", school_row(2), "tre_5_tuoi", "TruongLop", "tre_mau_giao"),
         ("error", "exceeds_total", "TruongLop", school_row(2), "tre_5_tuoi"), "rejected"),
    Case("exceeds_total.across_sheets", exceed("BoiDuong", school_row(3), "gv_cot_can", "DoiNgu", "gv_tong"),
         ("error", "exceeds_total", "BoiDuong", school_row(3), "gv_cot_can"), "rejected"),
    Case("exceeds_total.thong_tin", set_info("dan_so_5", 999_999),
         ("error", "exceeds_total", "ThongTin", THONG_TIN_ROW["dan_so_5"], "dan_so_5"), "rejected"),
    Case("exceeds_total.courses", exceed("LopBoiDuong", 5, "so_hoan_thanh", "LopBoiDuong", "so_hoc_vien"),
         ("error", "exceeds_total", "LopBoiDuong", 5, "so_hoan_thanh"), "rejected"),
    Case("out_of_range", compose(set_value("LopBoiDuong", 4, "so_hoc_vien", 0),
                                 set_value("LopBoiDuong", 4, "so_hoan_thanh", 0)),
         ("error", "out_of_range", "LopBoiDuong", 4, "so_hoc_vien"), "rejected", value="0"),
    # -- registry and completeness
    Case("unknown_school.not_in_registry", set_value("TruongLop", school_row(4), "ma_truong", "14128099"),
         ("error", "unknown_school", "TruongLop", school_row(4), "ma_truong"), "rejected", value="14128099"),
    Case("unknown_school.other_district", set_value("DoiNgu", school_row(5), "ma_truong", "14116001"),
         ("error", "unknown_school", "DoiNgu", school_row(5), "ma_truong"), "rejected", value="14116001"),
    # Vân Hồ's file with Quỳnh Nhai's district code: one finding on the code, not every school foreign and missing
    Case("district_mismatch", set_info("ma_don_vi", "118"),
         ("error", "district_mismatch", "ThongTin", THONG_TIN_ROW["ma_don_vi"], "ma_don_vi"), "rejected",
         value="118", in_message=("Vân Hồ", "Quỳnh Nhai")),
    Case("missing_school", delete_row("DoiNgu", LAST_SCHOOL_ROW),
         ("error", "missing_school", "DoiNgu", None, "ma_truong"), "rejected", value="14128007"),
    Case("duplicate_school", copy_row("TruongLop", school_row(6)),
         ("error", "duplicate_school", "TruongLop", LAST_SCHOOL_ROW + 1, "ma_truong"), "rejected",
         value="14128006"),
    # -- structure
    Case("missing_column", delete_column("DoiNgu", "nv_tong"),
         ("error", "missing_column", "DoiNgu", None, "nv_tong"), "rejected", in_message=("Tổng số nhân viên",)),
    Case("missing_sheet", delete_sheet("BoiDuong"),
         ("error", "missing_sheet", "BoiDuong", None, None), "rejected", in_message=("BoiDuong",)),
    Case("missing_sheet.empty_evaluation_in_cn", empty_table("DanhGiaChuan"),
         ("error", "missing_sheet", "DanhGiaChuan", None, None), "rejected"),
    Case("duplicate_sheet", duplicate_sheet("DoiNgu", "DOI NGU"),
         ("error", "duplicate_sheet", "DOI NGU", None, None), "rejected"),
    Case("duplicate_column", add_column("DoiNgu", "Tổng số nhân viên", "nv_tong", [5] * N_SCHOOLS),
         ("error", "duplicate_column", "DoiNgu", None, "nv_tong"), "rejected"),
    Case("ambiguous_column", grouped_header(
             "DoiNgu", "Trình độ", [f"gv_td_{q}" for q in ("duoi_trung_cap", "trung_cap", "cao_dang", "dai_hoc",
                                                          "sau_dai_hoc")], ["Dưới TC", "TC", "CĐ", "ĐH", "Trên ĐH"]),
         ("error", "ambiguous_column", "DoiNgu", 1, "gv_td_dai_hoc"), "rejected", value="Trình độ / ĐH",
         in_message=("'Trình độ CBQL: ĐH' hoặc 'Trình độ GV: ĐH'",)),
    Case("header_not_found", remove_header("BoiDuong"),
         ("error", "header_not_found", "BoiDuong", None, None), "rejected"),
    Case("unexpected_layout", second_table("TruongLop"),
         ("error", "unexpected_layout", "TruongLop", LAST_SCHOOL_ROW + 2, None), "rejected"),
    Case("duplicate_value", info_row("Người lập biểu", "Cầm Văn Thắng"),
         ("error", "duplicate_value", "ThongTin", 13, "nguoi_lap"), "rejected"),
    # -- cells
    Case("not_a_number", set_value("DoiNgu", school_row(3), "nv_tong", "năm"),
         ("error", "not_a_number", "DoiNgu", school_row(3), "nv_tong"), "rejected", value="năm"),
    # a count beyond PostgreSQL's integer (every count column of staging and core) cannot be stored:
    # reported like any unreadable number, never a failed load of the whole batch
    Case("not_a_number:too_large", set_value("DoiNgu", school_row(2), "nv_tong", 3_000_000_000),
         ("error", "not_a_number", "DoiNgu", school_row(2), "nv_tong"), "rejected", value="3000000000",
         in_message=("quá lớn",)),
    Case("not_a_number:too_large_text", set_value("TruongLop", school_row(3), "tre_mau_giao", "4.000.000.000"),
         ("error", "not_a_number", "TruongLop", school_row(3), "tre_mau_giao"), "rejected",
         value="4.000.000.000", in_message=("quá lớn",)),
    Case("negative", set_value("DoiNgu", school_row(4), "gv_nghi_huu", -1),
         ("error", "negative", "DoiNgu", school_row(4), "gv_nghi_huu"), "rejected", value="-1"),
    Case("invalid_value", set_value("TruongLop", school_row(2), "loai_hinh", "Quốc tế"),
         ("error", "invalid_value", "TruongLop", school_row(2), "loai_hinh"), "rejected", value="Quốc tế"),
    Case("missing_value", set_info("nguoi_lap", None),
         ("error", "missing_value", "ThongTin", THONG_TIN_ROW["nguoi_lap"], "nguoi_lap"), "rejected"),
    # publishing relies on it: a school type is never left to the registry (sql/load/publish.sql)
    Case("missing_value.school_type", set_value("TruongLop", school_row(1), "loai_hinh", None),
         ("error", "missing_value", "TruongLop", school_row(1), "loai_hinh"), "rejected"),
    Case("formula_error", set_value("DoiNgu", school_row(5), "nv_tong", "#REF!"),
         ("error", "formula_error", "DoiNgu", school_row(5), "nv_tong"), "rejected", value="#REF!"),
    # -- rows
    Case("unlabelled_row", append_row("TruongLop", {"so_nhom_tre": 2, "so_lop_mau_giao": 5, "tre_mau_giao": 120}),
         ("error", "unlabelled_row", "TruongLop", LAST_SCHOOL_ROW + 1, "ma_truong"), "rejected"),
    Case("totals_row_mismatch", totals_row("TruongLop", "tre_mau_giao", 10),
         ("warning", "totals_row_mismatch", "TruongLop", LAST_SCHOOL_ROW + 1, "tre_mau_giao"), "accepted"),
    # -- ThongTin: identity and period
    Case("unknown_district", set_info("ma_don_vi", "999"),
         ("error", "unknown_district", "ThongTin", THONG_TIN_ROW["ma_don_vi"], "ma_don_vi"), "rejected",
         value="999"),
    Case("wrong_template_version", set_info("phien_ban", "DA33-MN-v0"),
         ("error", "wrong_template_version", "ThongTin", THONG_TIN_ROW["phien_ban"], "phien_ban"), "rejected",
         value="DA33-MN-v0"),
    Case("wrong_period.not_consecutive", set_info("nam_hoc", "2019-2021"),
         ("error", "wrong_period", "ThongTin", THONG_TIN_ROW["nam_hoc"], "nam_hoc"), "rejected",
         value="2019-2021"),
    # (2019/2020, 2019 - 2020 and the like name one school year: the reader reads them as 2019-2020)
    Case("wrong_period.format", set_info("nam_hoc", "19-20"),
         ("error", "wrong_period", "ThongTin", THONG_TIN_ROW["nam_hoc"], "nam_hoc"), "rejected",
         value="19-20"),
    # a mistyped year: the warehouse holds no such school year, and the batch must still get its verdicts
    Case("wrong_period.out_of_range", set_info("nam_hoc", "2091-2092"),
         ("error", "wrong_period", "ThongTin", THONG_TIN_ROW["nam_hoc"], "nam_hoc"), "rejected",
         value="2091-2092", in_message=("2091-2092", "gõ nhầm")),
    Case("wrong_period.round", set_info("ky_bao_cao", "Học kỳ II"),
         ("error", "wrong_period", "ThongTin", THONG_TIN_ROW["ky_bao_cao"], "ky_bao_cao"), "rejected",
         value="Học kỳ II"),
    # -- plausibility (warnings: accepted)
    Case("name_mismatch.district", set_info("ten_don_vi", "Phòng GD&ĐT huyện Mộc Châu"),
         ("warning", "name_mismatch", "ThongTin", THONG_TIN_ROW["ten_don_vi"], "ten_don_vi"), "accepted",
         value="Phòng GD&ĐT huyện Mộc Châu"),
    Case("name_mismatch.school", set_value("TruongLop", school_row(1), "ten_truong", "Trường Mầm non Hoa Ban"),
         ("warning", "name_mismatch", "TruongLop", school_row(1), "ten_truong"), "accepted",
         value="Trường Mầm non Hoa Ban"),
    Case("class_size", set_value("TruongLop", school_row(1), "tre_mau_giao", 50 * 17),
         ("warning", "class_size", "TruongLop", school_row(1), "tre_mau_giao"), "accepted"),
    Case("teacher_ratio", set_value("TruongLop", school_row(1), "so_lop_mau_giao", 60),
         ("warning", "teacher_ratio", "DoiNgu", school_row(1), "gv_tong"), "accepted"),
    Case("abolished_rank", move_teacher_to_rank_iv(school_row(2)),
         ("warning", "abolished_rank", "DoiNgu", school_row(2), "gv_hang_4"), "accepted", value="1",
         nam_hoc=RANK_IV_NAM_HOC),
    Case("yoy_change", compose(*(set_value("DoiNgu", school_row(n), "nv_tong", 40) for n in range(1, 8))),
         ("warning", "yoy_change", "DoiNgu", None, "nv_tong"), "accepted", nam_hoc=NEXT_NAM_HOC),
    # -- whole files
    Case("unreadable_file", None, ("error", "unreadable_file", None, None, None), "rejected", write=_write_junk),
    Case("file_too_large", set_info("dien_thoai", "0212 3456 999"),  # any edit: not a byte copy of the base
         ("error", "file_too_large", None, None, None), "rejected",
         settings={"max_file_bytes": 2000}),
    # -- info: recorded only
    Case("ignored_column", add_column("DoiNgu", "Ghi chú", None, ["mới sáp nhập"] + [None] * 6),
         ("info", "ignored_column", "DoiNgu", KEY_ROW - 1, None), "accepted",  # the label row
         value="Ghi chú"),
    Case("ignored_sheet", extra_sheet("Ghi chú"), ("info", "ignored_sheet", "Ghi chú", None, None), "accepted"),
    Case("ignored_row", append_row("TruongLop", ["Người lập biểu"]),
         ("info", "ignored_row", "TruongLop", LAST_SCHOOL_ROW + 1, None), "accepted", value="Người lập biểu"),
    Case("ignored_row.thong_tin", info_row("Ghi chú: số liệu đến ngày 31/5", None),
         ("info", "ignored_row", "ThongTin", 13, None), "accepted"),
]


# ------------------------------------------------------------------------------------------ the run


@pytest.fixture(scope="module")
def warehouse_db(server_url, tmp_path_factory):
    """One migrated warehouse with the Sơn La registry for the whole module: conftest's `engine` fixture at
    module scope (a fresh database per case would take about a second each, for some forty cases)."""
    from etl import registry, warehouse

    with fresh_database(server_url, tmp_path_factory.mktemp("home")) as settings:
        engine = warehouse.prepare(settings)
        registry.load_province(engine, settings.province_config())
        yield engine, settings


@dataclass
class Outcome:
    path: Path
    verdict: object
    submission: object  # dq.submission: status, n_errors, n_warnings
    issues: list  # dq.issue rows
    in_core: int  # rows of core.fact_school_period
    in_staging: int  # rows of staging.truong_lop
    is_current: bool  # the submission of core.current_submission for its period

    def described(self) -> str:
        return "\n".join(f"  {tuple(i[:6])}" for i in self.issues)


def broken_file(case: Case, base: dict[str, Path], out_dir: Path) -> Path:
    out = out_dir / f"{case.id}.xlsx"
    if case.write is not None:
        case.write(out)
        return out
    shutil.copyfile(base[case.nam_hoc], out)
    if case.edit is not None:
        book = openpyxl.load_workbook(out)
        case.edit(book)
        book.save(out)
    return out


def outcome_of(engine, path: Path, verdict) -> Outcome:
    s = {"s": verdict.submission_id}
    with engine.connect() as c:
        submission = c.execute(sa.text(
            "select status, n_errors, n_warnings from dq.submission where submission_id = :s"), s).one()
        issues = c.execute(sa.text(
            "select severity, rule, sheet, row_number, column_key, value, message from dq.issue "
            "where submission_id = :s order by issue_id"), s).all()
        in_core = c.execute(sa.text("select count(*) from core.fact_school_period where submission_id = :s"),
                            s).scalar()
        in_staging = c.execute(sa.text("select count(*) from staging.truong_lop where submission_id = :s"),
                               s).scalar()
        is_current = c.execute(sa.text("select count(*) from core.current_submission where submission_id = :s"),
                               s).scalar() == 1
    return Outcome(path, verdict, submission, issues, in_core, in_staging, is_current)


@pytest.fixture(scope="module")
def outcomes(warehouse_db, tmp_path_factory) -> dict[str, Outcome]:
    """Every case ingested into one warehouse, as the nightly run does with a landing folder.

    1. the valid base workbooks of 2019-2020 and 2021-2022 (accepted: the checks of `yoy_change` need
       an accepted previous year, and the base must be clean for each case's finding to be its edit's);
    2. every broken file in one batch: each is its own submission; rejections never change core, the
       accepted ones (warnings, info) supersede one another within their period;
    3. the file of `file_too_large`, with a small size limit.
    """
    engine, settings = warehouse_db
    out = tmp_path_factory.mktemp("cases")
    province = settings.province_config()
    base = {
        nam_hoc: generate_district_workbook(province, MA_DON_VI, nam_hoc, "CN", out / f"base_{nam_hoc}_CN.xlsx",
                                            seed=1)
        for nam_hoc in (NAM_HOC, NEXT_NAM_HOC, RANK_IV_NAM_HOC)
    }
    results: dict[str, Outcome] = {}
    clean = [base[NAM_HOC], base[RANK_IV_NAM_HOC]]
    for path, verdict in zip(clean, ingest_files(engine, settings, clean), strict=True):
        results[f"base.{path.name}"] = outcome_of(engine, path, verdict)
    batches: dict[tuple, list[tuple[Case, Path]]] = {}
    for case in CASES:
        batches.setdefault(tuple(sorted(case.settings.items())), []).append((case, broken_file(case, base, out)))
    for changes, batch in batches.items():
        verdicts = ingest_files(engine, dataclasses.replace(settings, **dict(changes)), [p for _, p in batch])
        for (case, path), verdict in zip(batch, verdicts, strict=True):
            results[case.id] = outcome_of(engine, path, verdict)
    return results


# ------------------------------------------------------------------------------------------ the tests


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [])
     for c in CASES],
)
def test_a_workbook_breaking_the_rule_gets_its_issue_row_and_verdict(case, outcomes, warehouse_db):
    settings = warehouse_db[1]
    got = outcomes[case.id]
    # the verdict and the counts first, so that a case marked xfail for its dq.issue row checks them too
    assert got.verdict.status == case.status, got.described()
    n_errors = sum(i.severity == "error" for i in got.issues)
    n_warnings = sum(i.severity == "warning" for i in got.issues)
    assert (got.submission.n_errors, got.submission.n_warnings) == (n_errors, n_warnings)
    assert (got.verdict.n_errors, got.verdict.n_warnings) == (n_errors, n_warnings)
    if case.status == "rejected":
        assert n_errors >= 1 and got.submission.status == "rejected"
        assert got.in_core == 0 and not got.is_current, "a rejected submission must not reach core"
        assert (settings.quarantine_dir / f"{got.verdict.submission_id}_{stored_name(got.path)}").exists()
    else:
        assert n_errors == 0, got.described()
        # accepted; a later accepted file of the same period in the batch supersedes it
        assert got.submission.status in ("accepted", "superseded")
        assert got.in_staging == N_SCHOOLS
        assert got.in_core == (N_SCHOOLS if got.is_current else 0)

    located = [tuple(i[:5]) for i in got.issues]
    assert case.expect in located, f"{case.expect} not among the dq.issue rows:\n{got.described()}"
    found = next(i for i in got.issues if tuple(i[:5]) == case.expect)
    if case.value is not ANY:
        assert found.value == case.value, got.described()
    assert found.message and found.message.strip()
    for word in case.in_message:
        assert word in found.message, found.message


def test_the_base_workbooks_are_accepted_without_errors_or_warnings(outcomes):
    """So that each case's finding comes from its edit, not from the generated workbook."""
    bases = [o for key, o in outcomes.items() if key.startswith("base.")]
    assert len(bases) == 2
    for got in bases:
        assert got.verdict.status == "accepted", got.described()
        assert [i for i in got.issues if i.severity != "info"] == [], got.described()


def test_the_last_accepted_file_of_each_period_is_current_and_the_rejected_ones_changed_nothing(
        outcomes, warehouse_db):
    engine = warehouse_db[0]
    with engine.connect() as c:
        current = set(c.execute(sa.text("select submission_id from core.current_submission")).scalars())
        in_core = set(c.execute(sa.text("select distinct submission_id from core.fact_school_period")).scalars())
    accepted: dict[tuple, int] = {}
    for got in outcomes.values():  # in the order of ingestion
        v = got.verdict
        if v.status == "accepted":
            accepted[(v.ma_don_vi, v.nam_hoc, v.ky_bao_cao)] = v.submission_id
    assert current == set(accepted.values()) == in_core
