"""The district's own workbook, annotated: each finding highlighted at its cell with a comment in Vietnamese.

`annotate_workbook(source, findings, out)` copies the workbook the district sent (the byte copy in the
archive) and, for every error or warning that has a sheet, a row and a column, fills the cell (red for an
error, yellow for a warning) and attaches a comment (author "tonghop") stating the problem and the rule
expected. A first sheet "Lỗi cần sửa" lists every finding (sheet, row, cell, column label, value,
message, rule), with a link to the cell, so findings without a row (a missing sheet, a missing column,
a missing school) are told as well. Info findings are recorded only and never annotated.

The column of a finding is found by its header, as the reader finds it: in the first 15 rows of the sheet,
a cell equal (NFC, case-folded, whitespace collapsed; then without diacritics) to the template key, its
Vietnamese label or one of its aliases (etl/layouts/). In the key/value sheet ThongTin the value is in
column B. When the header is not found, the comment goes on column A of the row.

A CSV submission (`.zip`) or a workbook that cannot be opened gets a new workbook holding only the
"Lỗi cần sửa" sheet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from etl.layout import ColumnSpec, load_layout
from etl.normalize import bare_label, bare_sheet_name

ERRORS_SHEET = "Lỗi cần sửa"
AUTHOR = "tonghop"
ERROR_COLOR = "FFFF9999"  # red
WARNING_COLOR = "FFFFFF66"  # yellow
FILLS = {
    "error": PatternFill(fill_type="solid", start_color=ERROR_COLOR, end_color=ERROR_COLOR),
    "warning": PatternFill(fill_type="solid", start_color=WARNING_COLOR, end_color=WARNING_COLOR),
}
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo", "info": "Thông tin"}
HEADER_SEARCH_ROWS = 15
MAX_HEADER_COLUMNS = 300

# What each rule expects, told to the district (rule codes: spec/interfaces.md, submission-template.md).
RULE_VI = {
    "sum_mismatch": "Tổng các cột thành phần phải bằng cột tổng tương ứng.",
    "unknown_school": "Mã trường (8 chữ số) phải có trong danh mục trường của Sở và thuộc đơn vị báo cáo.",
    "missing_school": "Mọi trường đang hoạt động trong năm học phải có một dòng ở biểu TruongLop và DoiNgu.",
    "missing_column": "Biểu phải có đủ các cột bắt buộc của mẫu DA33-MN-v1, với tên cột như trong mẫu.",
    "missing_value": "Ô bắt buộc không được để trống.",
    "not_a_number": "Ô số liệu phải là số nguyên không âm (không ghi chữ, không ghi số lẻ, không quá 2.147.483.647).",
    "negative": "Số liệu không được âm.",
    "exceeds_total": "Số liệu chi tiết không được lớn hơn số tổng tương ứng.",
    "yoy_change": "Tổng của đơn vị thay đổi quá 30% so với báo cáo cuối năm học trước: đề nghị kiểm tra lại.",
    "totals_row_mismatch": "Dòng tổng cộng phải bằng tổng các dòng trường.",
    "unreadable_file": "Tệp phải là tệp Excel (.xlsx) mở được, lập theo mẫu DA33-MN-v1.",
    "duplicate_of_replaced": "Muốn dùng lại số liệu của một tệp đã gửi trước: mở tệp, lưu lại rồi gửi lại.",
    "file_too_large": "Dung lượng tệp vượt quá mức cho phép: bỏ các trang tính, hình ảnh không cần thiết.",
    "missing_sheet": "Tệp phải có đủ các trang tính bắt buộc: ThongTin, TruongLop, DoiNgu, BoiDuong "
                     "(và DanhGiaChuan ở kỳ cuối năm).",
    "wrong_template_version": "Phải dùng mẫu biểu DA33-MN-v1 (ô 'Phiên bản biểu mẫu' ở trang ThongTin).",
    "unknown_district": "Mã đơn vị phải là mã (3 chữ số) của một Phòng GD&ĐT trong danh mục của Sở.",
    "wrong_period": "Năm học (dạng 2019-2020) và kỳ báo cáo (HKI hoặc CN) phải đúng kỳ đang báo cáo.",
    "formula_error": "Ô không được chứa công thức bị lỗi (#REF!, #DIV/0!, #VALUE!...) hay công thức chưa được tính.",
    "unlabelled_row": "Dòng có số liệu phải có mã trường, hoặc là dòng Tổng cộng.",
    "merged_cells": "Không gộp ô trong vùng số liệu: mỗi trường ghi số liệu ở dòng của mình.",
    "name_mismatch": "Tên nên khớp với tên trong danh mục của Sở.",
    "class_size": "Số trẻ bình quân một nhóm/lớp thường trong khoảng 5 đến 45.",
    "teacher_ratio": "Số giáo viên bình quân một nhóm/lớp thường trong khoảng 0,5 đến 4.",
    "invalid_value": "Giá trị phải là một trong các giá trị của mẫu biểu.",
    "invalid_date": "Ngày phải ghi dạng dd/mm/yyyy.",
    "duplicate_school": "Mỗi trường chỉ khai một dòng ở mỗi biểu.",
    "duplicate_sheet": "Mỗi biểu của mẫu chỉ có một trang tính: xoá hoặc đổi tên trang tính trùng.",
    "duplicate_column": "Mỗi cột của mẫu chỉ có một lần trong biểu: xoá cột trùng.",
    "duplicate_value": "Mỗi mục của trang ThongTin chỉ ghi một lần.",
    "header_not_found": "Biểu phải giữ dòng tên cột của mẫu DA33-MN-v1 trong 15 dòng đầu của trang tính.",
    "unexpected_layout": "Mỗi trang tính chỉ có một bảng số liệu: không thêm bảng thứ hai bên dưới.",
    "out_of_range": "Giá trị phải nằm trong khoảng cho phép của mẫu biểu.",
    "abolished_rank": "Từ Thông tư 01/2021/TT-BGDĐT giáo viên mầm non chỉ còn hạng I, II, III.",
    "outlier": "Chỉ số khác xa các đơn vị khác trong tỉnh: đề nghị kiểm tra lại số liệu.",
}


# ------------------------------------------------------------------ normalisation and layout look-ups
def normalize(value: Any) -> str:
    """NFC, case-folded, whitespace (line breaks included) collapsed."""
    if value is None:
        return ""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(value))).strip().casefold()


def loose(value: Any) -> str:
    """normalize() without diacritics (đ read as d)."""
    text = unicodedata.normalize("NFD", normalize(value).replace("đ", "d"))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _sheet_key(name: Any) -> str:
    return loose(name).replace(" ", "")


def canonical_sheet(name: str | None) -> str | None:
    """The template sheet a written sheet name stands for (`Thông tin` -> ThongTin), or None."""
    if not name:
        return None
    wanted = _sheet_key(name)
    sheets = load_layout().sheets
    exact = next((s for s in sheets if _sheet_key(s) == wanted), None)
    # as the reader matches them: also without a form number or Excel's copy number (`Biểu 1 - TruongLop`)
    return exact or next((s for s in sheets if bare_sheet_name(s) == bare_sheet_name(name)), None)


def column_spec(sheet: str | None, key: str | None) -> ColumnSpec | None:
    """The layout column of a template key, in the given sheet if known, else in any sheet."""
    if not key:
        return None
    sheets = load_layout().sheets
    canonical = canonical_sheet(sheet)
    order = ([sheets[canonical]] if canonical else []) + [s for s in sheets.values() if s.name != canonical]
    for spec in order:
        for column in spec.columns:
            if column.key == key:
                return column
    return None


def column_label(sheet: str | None, key: str | None) -> str:
    """The Vietnamese label of a column (the key itself when the layout does not know it)."""
    spec = column_spec(sheet, key)
    return spec.label_vi if spec else (key or "")


def rule_text(rule: str | None) -> str:
    return RULE_VI.get(rule or "", "")


# ------------------------------------------------------------------ locating cells
def _find_sheet(wb: openpyxl.Workbook, name: str | None) -> Worksheet | None:
    if not name:
        return None
    if name in wb.sheetnames:
        return wb[name]
    wanted = _sheet_key(name)
    return next((wb[s] for s in wb.sheetnames if _sheet_key(s) == wanted and s != ERRORS_SHEET), None)


def _header_columns(ws: Worksheet) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """normalised text -> first column holding it in the first 15 rows (exact, loose and bare forms: the
    reader's last tier, `normalize.bare_label`)."""
    exact: dict[str, int] = {}
    loose_map: dict[str, int] = {}
    bare_map: dict[str, int] = {}
    max_col = min(ws.max_column or 1, MAX_HEADER_COLUMNS)
    for row in ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, max_col=max_col):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.strip():
                exact.setdefault(normalize(cell.value), cell.column)
                loose_map.setdefault(loose(cell.value), cell.column)
                bare_map.setdefault(bare_label(cell.value), cell.column)
    return exact, loose_map, bare_map


def locate_column(ws: Worksheet, sheet: str | None, key: str | None,
                  _cache: dict[str, tuple[dict[str, int], dict[str, int], dict[str, int]]] | None = None
                  ) -> int | None:
    """1-based column of a template key in a sheet, found by its header; None when not found."""
    canonical = canonical_sheet(sheet or ws.title)
    layout = load_layout()
    if canonical and layout.sheets[canonical].kind == "key_value":
        return 2
    if not key:
        return None
    if _cache is not None and ws.title in _cache:
        exact, loose_map, bare_map = _cache[ws.title]
    else:
        exact, loose_map, bare_map = _header_columns(ws)
        if _cache is not None:
            _cache[ws.title] = (exact, loose_map, bare_map)
    spec = column_spec(sheet or ws.title, key)
    names = [key, *(spec.labels if spec else ())]
    for name in names:
        if normalize(name) in exact:
            return exact[normalize(name)]
    for name in names:
        if loose(name) in loose_map:
            return loose_map[loose(name)]
    for name in names:
        if bare_label(name) in bare_map:
            return bare_map[bare_label(name)]
    return None


def _anchor(ws: Worksheet, row: int, column: int):
    cell = ws.cell(row=row, column=column)
    if isinstance(cell, MergedCell):
        for merged in ws.merged_cells.ranges:
            if cell.coordinate in merged:
                return ws.cell(row=merged.min_row, column=merged.min_col)
    return cell


def _finding_line(f: dict) -> str:
    severity = SEVERITY_VI.get(f.get("severity") or "", f.get("severity") or "")
    label = column_label(f.get("sheet"), f.get("column_key"))
    parts = [f"[{severity}] {f.get('message') or ''}".strip()]
    if label:
        parts.append(f"Cột: {label}")
    if f.get("value") not in (None, ""):
        parts.append(f"Giá trị đã ghi: {f['value']}")
    if rule_text(f.get("rule")):
        parts.append(f"Yêu cầu: {rule_text(f.get('rule'))}")
    return "\n".join(parts)


# ------------------------------------------------------------------ the workbook
def _reportable(findings: Iterable[dict]) -> list[dict]:
    return [f for f in findings if f.get("severity") in ("error", "warning")]


def _sort_key(f: dict) -> tuple:
    return (f.get("sheet") or "", f.get("row_number") or 0, f.get("column_key") or "",
            0 if f.get("severity") == "error" else 1)


def _write_errors_sheet(wb: openpyxl.Workbook, findings: list[dict], cells: dict[int, str | None],
                        sheets: dict[int, str | None]) -> Worksheet:
    if ERRORS_SHEET in wb.sheetnames:  # a district resent our annotated copy: list tonight's findings only
        del wb[ERRORS_SHEET]
    ws = wb.create_sheet(ERRORS_SHEET, 0)
    ws.append(["STT", "Mức độ", "Trang tính", "Dòng", "Ô", "Cột", "Giá trị đã ghi", "Nội dung", "Yêu cầu"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for n, (i, f) in enumerate(sorted(enumerate(findings), key=lambda p: _sort_key(p[1])), start=1):
        ws.append([
            n,
            SEVERITY_VI.get(f.get("severity") or "", f.get("severity")),
            f.get("sheet") or "",
            f.get("row_number"),
            cells.get(i) or "",
            column_label(f.get("sheet"), f.get("column_key")),
            f.get("value") if f.get("value") is not None else "",
            f.get("message") or "",
            rule_text(f.get("rule")),
        ])
        row = ws.max_row
        ws.cell(row=row, column=2).fill = FILLS.get(f.get("severity"), PatternFill())
        if cells.get(i) and sheets.get(i):
            link = ws.cell(row=row, column=5)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(sheets[i])}!{cells[i]}")
            link.font = Font(color="FF0563C1", underline="single")
    for column, width in zip("ABCDEFGHI", (5, 10, 16, 7, 7, 32, 18, 70, 60), strict=True):
        ws.column_dimensions[column].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row[7:9]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    return ws


def _open_source(source: Path) -> openpyxl.Workbook | None:
    if source.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    try:
        return openpyxl.load_workbook(source)
    except Exception:  # noqa: BLE001 - an unreadable file is itself a finding; the list is still sent
        return None


def annotate_workbook(source: Path, findings: list[dict], out: Path) -> Path:
    """Write to `out` the district's workbook with every error and warning marked (module docstring)."""
    source, out = Path(source), Path(out)
    findings = _reportable(findings)
    wb = _open_source(source)
    cells: dict[int, str | None] = {}
    sheets: dict[int, str | None] = {}
    if wb is None:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
    else:
        header_cache: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
        marks: dict[tuple[str, str], list[dict]] = {}
        for i, f in enumerate(findings):
            ws = _find_sheet(wb, f.get("sheet"))
            row = f.get("row_number")
            if ws is None or not row:
                continue
            column = locate_column(ws, f.get("sheet"), f.get("column_key"), header_cache) or 1
            cell = _anchor(ws, int(row), column)
            cells[i], sheets[i] = cell.coordinate, ws.title
            marks.setdefault((ws.title, cell.coordinate), []).append(f)
        for (title, coordinate), on_cell in marks.items():
            cell = wb[title][coordinate]
            worst = "error" if any(f["severity"] == "error" for f in on_cell) else "warning"
            cell.fill = FILLS[worst]
            text = "\n\n".join(_finding_line(f) for f in on_cell)
            if cell.comment is not None and cell.comment.author != AUTHOR:
                text = f"{text}\n\n--- Ghi chú của đơn vị ---\n{cell.comment.text}"
            comment = Comment(text, AUTHOR)
            comment.width = 360
            comment.height = min(600, 40 + 16 * (text.count("\n") + 1 + len(text) // 55))
            cell.comment = comment
    ws = _write_errors_sheet(wb, findings, cells, sheets)
    wb.active = wb.sheetnames.index(ws.title)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = other is ws
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
