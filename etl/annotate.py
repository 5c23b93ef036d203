"""The district's own workbook, annotated: each finding highlighted at its cell with a comment in Vietnamese.

`annotate_workbook(source, findings, out)` copies the workbook the district sent (the byte copy in the
archive) and, for every error or warning that has a sheet, a row and a column, fills the cell (red for an
error, yellow for a warning) and attaches a comment (author "tonghop") stating the problem and the rule
expected. A first sheet "Lỗi cần sửa" lists every finding (sheet, row, cell, column label, value,
message, rule), with a link to the cell, so findings without a row (a missing sheet, a missing column,
a missing school) are told as well. Info findings are recorded only and never annotated.

The column of a finding is found by its header, as the reader finds it: in the first 15 rows of the sheet,
a cell equal (NFC, case-folded, whitespace collapsed; then without diacritics) to the template key, its
Vietnamese label or one of its aliases (etl/layouts/). In the key/value sheet ThongTin the value is the
first filled cell after the label, as the reader reads it (column B, or C when the label is merged over A:B).
When the header is not found, the comment goes on column A of the row. `annotate` also says where each
finding was marked (`Place`: the cell and the header as the district wrote it), which the e-mail quotes.

A copy we annotated earlier, corrected and sent back, loses our earlier comments and fills first: only
tonight's findings are marked on it.

A CSV submission (`.zip`) or a workbook that cannot be opened gets a new workbook holding only the
"Lỗi cần sửa" sheet.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from etl.layout import ColumnSpec, combined_layout, load_layout, template_versions
from etl.normalize import bare_label, bare_sheet_name
from etl.read import find_columns

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
# how a comment of ours carries the district's own note that was on the cell
CLERK_NOTE = "\n\n--- Ghi chú của đơn vị ---\n"
# rules whose value is not one the district wrote: the code of a school left out, a district total, an
# indicator, a merged range. Shown as "Giá trị đã ghi" it sent the clerk looking for a cell that is not there
VALUE_NOT_WRITTEN = frozenset({"missing_school", "yoy_change", "outlier", "merged_cells"})
MAX_HEADER_COLUMNS = 300
# A district's workbook is opened with openpyxl only up to this size unpacked (a real one is well under 1 MB).
# openpyxl holds every cell as an object: a 1 MB file the reader rejects at once as a zip bomb (240 MB of
# cells unpacked) took it 40 s and 1 GB, and one of 20 MB would take the alerts' worker down, night after
# night. Beyond it the copy holds only the "Lỗi cần sửa" sheet.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024

# What each rule expects, told to the district (rule codes: spec/interfaces.md, submission-template.md).
RULE_VI = {
    "sum_mismatch": "Tổng các cột thành phần phải bằng cột tổng tương ứng.",
    "unknown_school": "Mã trường (8 chữ số) phải có trong danh mục trường của Sở và thuộc đơn vị báo cáo.",
    "missing_school": "Mọi trường đang hoạt động trong năm học phải có một dòng ở biểu TruongLop và DoiNgu.",
    "missing_column": "Biểu phải có đủ các cột bắt buộc của mẫu {phien_ban}, với tên cột như trong mẫu.",
    "missing_value": "Ô bắt buộc không được để trống.",
    "not_a_number": "Ô số liệu phải là số nguyên không âm (không ghi chữ, không ghi số lẻ, không quá 2.147.483.647).",
    "negative": "Số liệu không được âm.",
    "exceeds_total": "Số liệu chi tiết không được lớn hơn số tổng tương ứng.",
    # the threshold is the province's (yoy_change_threshold), which the message states
    "yoy_change": "Tổng của đơn vị thường không thay đổi quá ngưỡng Sở quy định so với báo cáo cuối năm học "
                  "trước: đề nghị kiểm tra lại.",
    "totals_row_mismatch": "Dòng tổng cộng phải bằng tổng các dòng trường.",
    "unreadable_file": "Tệp phải là tệp Excel (.xlsx) mở được, lập theo mẫu {phien_ban}.",
    "duplicate_of_replaced": "Muốn dùng lại số liệu của một tệp đã gửi trước: mở tệp, lưu lại rồi gửi lại.",
    "file_too_large": "Dung lượng tệp vượt quá mức cho phép: bỏ các trang tính, hình ảnh không cần thiết.",
    "missing_sheet": "Tệp phải có đủ các trang tính bắt buộc: {S[ThongTin]}, {S[TruongLop]}, {S[DoiNgu]}, "
                     "{S[BoiDuong]} (và {S[DanhGiaChuan]} ở kỳ cuối năm).",
    "wrong_template_version": "Phải dùng mẫu biểu {phien_ban} (ô 'Phiên bản biểu mẫu' ở trang {S[ThongTin]}).",
    "unknown_district": "Mã đơn vị phải là mã (3 chữ số) của một Phòng GD&ĐT trong danh mục của Sở.",
    "district_mismatch": "Mã đơn vị phải là mã của Phòng GD&ĐT có các trường trong tệp.",
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
    "ambiguous_column": "Tên cột, cùng tên nhóm cột gộp phía trên, phải chỉ rõ một cột của mẫu (ví dụ 'Trình độ GV' "
                        "trên 'ĐH', không chỉ 'Trình độ').",
    "duplicate_value": "Mỗi mục của trang ThongTin chỉ ghi một lần.",
    "header_not_found": "Biểu phải giữ dòng tên cột của mẫu {phien_ban} trong 15 dòng đầu của trang tính.",
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
    names = _sheet_names()
    exact = next((s for written, s in names if _sheet_key(written) == wanted), None)
    # as the reader matches them: also without a form number or Excel's copy number (`Biểu 1 - TruongLop`)
    return exact or next((s for written, s in names if bare_sheet_name(written) == bare_sheet_name(name)), None)


def _sheet_names() -> list[tuple[str, str]]:
    """(a name a sheet is written or read under in some accepted template version, the sheet's identity): a
    file of any version is marked, whichever version's names it carries."""
    return [(written, spec.name) for layout in template_versions().layouts.values()
            for spec in layout.sheets.values() for written in (spec.name, *spec.sheet_names)]


def column_spec(sheet: str | None, key: str | None) -> ColumnSpec | None:
    """The layout column of a template key, in the given sheet if known, else in any sheet."""
    if not key:
        return None
    sheets = combined_layout().sheets  # a column of another accepted version too (by its own label)
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
    """What a rule expects, naming the template version the Sở hands out and its sheets as that version writes them."""
    layout = load_layout()
    sheets = {name: spec.written_as for name, spec in layout.sheets.items()}
    return RULE_VI.get(rule or "", "").format(phien_ban=layout.template_version, S=sheets)


# ------------------------------------------------------------------ locating cells
def _find_sheet(wb: openpyxl.Workbook, name: str | None) -> Worksheet | None:
    if not name:
        return None
    if name in wb.sheetnames:
        return wb[name]
    wanted = _sheet_key(name)
    return next((wb[s] for s in wb.sheetnames if _sheet_key(s) == wanted and s != ERRORS_SHEET), None)


# a header as the annotator finds it: its 1-based column and its text as the district wrote it
Header = tuple[int, str]
HeaderMaps = tuple[dict[str, Header], dict[str, Header], dict[str, Header]]


def _header_columns(ws: Worksheet) -> HeaderMaps:
    """normalised text -> first cell holding it in the first 15 rows (exact, loose and bare forms: the
    reader's last tier, `normalize.bare_label`), as (column, text written)."""
    exact: dict[str, Header] = {}
    loose_map: dict[str, Header] = {}
    bare_map: dict[str, Header] = {}
    max_col = min(ws.max_column or 1, MAX_HEADER_COLUMNS)
    for row in ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, max_col=max_col):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.strip():
                found = (cell.column, re.sub(r"\s+", " ", unicodedata.normalize("NFC", cell.value)).strip())
                exact.setdefault(normalize(cell.value), found)
                loose_map.setdefault(loose(cell.value), found)
                bare_map.setdefault(bare_label(cell.value), found)
    return exact, loose_map, bare_map


def _is_key_value(ws: Worksheet, sheet: str | None) -> bool:
    canonical = canonical_sheet(sheet or ws.title)
    return bool(canonical) and load_layout().sheets[canonical].kind == "key_value"


def locate_header(ws: Worksheet, sheet: str | None, key: str | None,
                  _cache: dict[str, Any] | None = None) -> Header | None:
    """The column of a template key in a table sheet and its header as written, found by the header;
    None when not found (and for the key/value sheet ThongTin, whose values are found by row)."""
    if not key or _is_key_value(ws, sheet):
        return None
    if _cache is not None and ws.title in _cache:
        exact, loose_map, bare_map = _cache[ws.title]
    else:
        exact, loose_map, bare_map = _header_columns(ws)
        if _cache is not None:
            _cache[ws.title] = (exact, loose_map, bare_map)
    # the labels before the key: of a label row and a key row, the clerk reads the labels (of every accepted
    # version: a file of an earlier one carries its own)
    names = [*_column_labels(sheet or ws.title, key), key]
    for name in names:
        if normalize(name) in exact:
            return exact[normalize(name)]
    for name in names:
        if loose(name) in loose_map:
            return loose_map[loose(name)]
    for name in names:
        if bare_label(name) in bare_map:
            return bare_map[bare_label(name)]
    return _grouped_header(ws, sheet, key, _cache)


def _column_labels(sheet: str | None, key: str) -> list[str]:
    canonical = canonical_sheet(sheet)
    labels = [label for layout in template_versions().layouts.values()
              for spec in ([layout.sheets[canonical]] if canonical in layout.sheets else layout.sheets.values())
              for column in spec.columns if column.key == key for label in column.labels]
    return list(dict.fromkeys(labels))


def _grouped_header(ws: Worksheet, sheet: str | None, key: str, _cache: dict[str, Any] | None) -> Header | None:
    """The column of a key whose label is written in no one cell, found as the reader found it: a header over
    several rows (`CBQL` merged over `Tổng số`), its text as `CBQL / Tổng số`. Asked only when no cell holds
    the label, so a file in the template's layout never builds it."""
    canonical = canonical_sheet(sheet or ws.title)
    if not canonical:
        return None
    cache_key = f"\0{ws.title}"
    if _cache is not None and cache_key in _cache:
        columns = _cache[cache_key]
    else:
        max_col = min(ws.max_column or 1, MAX_HEADER_COLUMNS)
        rows = list(ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS + 3, max_col=max_col, values_only=True))
        columns = find_columns(rows, combined_layout().sheets[canonical], HEADER_SEARCH_ROWS)
        if _cache is not None:
            _cache[cache_key] = columns
    found = columns.get(key)
    return (found[0] + 1, found[1]) if found else None


def _merged_end(ws: Worksheet, row: int, column: int) -> int:
    """The last column of the merged range starting at (row, column), or the column itself."""
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= row <= merged.max_row and merged.min_col == column:
            return merged.max_col
    return column


def value_column(ws: Worksheet, row: int) -> int:
    """The column of a ThongTin item's value in its row, found as the reader finds it: the first filled
    cell after the label (the row's first filled cell); the label's own cell when it holds the value after
    a colon (`Mã đơn vị: 118`); the cell after the label (after its merged range) when the value is empty.
    Forms often merge the label over two columns and put the value in C: the comment belongs there, not
    on the label."""
    filled = [c.column for c in ws[row] if not isinstance(c, MergedCell) and c.value is not None
              and str(c.value).strip()]
    if not filled:
        return 2
    label = filled[0]
    after = [c for c in filled if c > label]
    if after:
        return after[0]
    text = str(ws.cell(row=row, column=label).value)
    if ":" in text and text.partition(":")[2].strip():
        return label
    return _merged_end(ws, row, label) + 1


def locate_column(ws: Worksheet, sheet: str | None, key: str | None,
                  _cache: dict[str, Any] | None = None, row: int | None = None) -> int | None:
    """1-based column of a template key in a sheet, found by its header (in ThongTin, the value's column
    in `row`, else B); None when not found."""
    if _is_key_value(ws, sheet):
        return value_column(ws, row) if row else 2
    found = locate_header(ws, sheet, key, _cache)
    return found[0] if found else None


def _anchor(ws: Worksheet, row: int, column: int):
    cell = ws.cell(row=row, column=column)
    if isinstance(cell, MergedCell):
        for merged in ws.merged_cells.ranges:
            if cell.coordinate in merged:
                return ws.cell(row=merged.min_row, column=merged.min_col)
    return cell


def shown_value(f: dict) -> str:
    """The value to show as "written by the district": none for a finding whose value the district did not
    write (the code of a school left out, a district total, a merged range), which the message states."""
    if f.get("value") in (None, "") or f.get("rule") in VALUE_NOT_WRITTEN:
        return ""
    return str(f["value"])


def _finding_line(f: dict) -> str:
    severity = SEVERITY_VI.get(f.get("severity") or "", f.get("severity") or "")
    label = column_label(f.get("sheet"), f.get("column_key"))
    parts = [f"[{severity}] {f.get('message') or ''}".strip()]
    if label:
        parts.append(f"Cột: {label}")
    if shown_value(f):
        parts.append(f"Giá trị đã ghi: {shown_value(f)}")
    if rule_text(f.get("rule")):
        parts.append(f"Yêu cầu: {rule_text(f.get('rule'))}")
    return "\n".join(parts)


@dataclass(frozen=True)
class Place:
    """Where a finding was marked in the district's own workbook."""

    sheet: str  # the sheet's name in the file
    cell: str  # `K8`
    header: str | None  # the column's header as the district wrote it (None in ThongTin, or not found)

    @property
    def column_letter(self) -> str:
        return self.cell.rstrip("0123456789")


@dataclass(frozen=True)
class AnnotatedCopy:
    path: Path
    places: list[Place | None]  # one per finding given (None: not marked on a cell)


# ------------------------------------------------------------------ the workbook
def _sort_key(f: dict, place: Place | None) -> tuple:
    """The errors sheet in the order the clerk fills the file: findings of the whole file first, then the
    template's sheets in order, each by row and column as in the file."""
    sheet = f.get("sheet")
    canonical = canonical_sheet(sheet)
    order = list(load_layout().sheets)
    sheet_rank = (0, 0, "") if not sheet else (1, order.index(canonical), sheet) if canonical else (2, 0, sheet)
    column = column_index_from_string(place.column_letter) if place else 0
    return (*sheet_rank, f.get("row_number") or 0, column, 0 if f.get("severity") == "error" else 1)


def _text(value: Any) -> Any:
    """A value from a district's file as a cell or comment takes it: without the control characters XML cannot
    hold (openpyxl refuses them in a cell, and writes them into a comment, which Excel then cannot open)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _as_text(cell: Any) -> None:
    """Keep a text cell text: openpyxl makes a formula of a text beginning with `=`, so a school name written
    `=HYPERLINK("http://...","bấm")` would be a live formula in the list the Sở and the district open."""
    if cell.data_type == "f":
        cell.data_type = "s"


def _write_errors_sheet(wb: openpyxl.Workbook, findings: list[dict], places: list[Place | None]) -> Worksheet:
    if ERRORS_SHEET in wb.sheetnames:  # a district resent our annotated copy: list tonight's findings only
        del wb[ERRORS_SHEET]
    ws = wb.create_sheet(ERRORS_SHEET, 0)
    ws.append(["STT", "Mức độ", "Trang tính", "Dòng", "Ô", "Cột", "Giá trị đã ghi", "Nội dung", "Yêu cầu"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ranked = sorted(zip(findings, places, strict=True), key=lambda p: _sort_key(*p))
    for n, (f, place) in enumerate(ranked, start=1):
        ws.append([_text(v) for v in (
            n,
            SEVERITY_VI.get(f.get("severity") or "", f.get("severity")),
            f.get("sheet") or "",
            f.get("row_number"),
            place.cell if place else "",
            (place.header if place and place.header else column_label(f.get("sheet"), f.get("column_key"))),
            shown_value(f),
            f.get("message") or "",
            rule_text(f.get("rule")),
        )])
        row = ws.max_row
        for cell in ws[row]:
            _as_text(cell)
        ws.cell(row=row, column=2).fill = FILLS.get(f.get("severity"), PatternFill())
        if place:
            link = ws.cell(row=row, column=5)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(place.sheet)}!{place.cell}")
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
        with zipfile.ZipFile(source) as archive:  # the declared sizes: zipfile reads no more than them
            if sum(member.file_size for member in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                return None
        return openpyxl.load_workbook(source)
    except Exception:  # noqa: BLE001 - an unreadable file is itself a finding; the list is still sent
        return None


def _clear_earlier_marks(wb: openpyxl.Workbook) -> None:
    """Remove the marks of an earlier annotation from a copy the district corrected and sent back.

    Clerks fix the copy they were sent: the values change, but our comments and fills stay, so a fixed
    cell kept its red fill and its comment naming the error it no longer has, and an accepted file came
    back covered in errors. A comment of ours (author `tonghop`) is removed, the district's own note it
    carried is given back, and its cell loses our fill; tonight's findings are then marked afresh."""
    ours = {ERROR_COLOR, WARNING_COLOR}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                comment = cell.comment
                if comment is None or comment.author != AUTHOR:
                    continue
                _, marker, note = comment.text.partition(CLERK_NOTE)
                cell.comment = Comment(note, "") if marker and note.strip() else None
                if cell.fill is not None and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb in ours:
                    cell.fill = PatternFill()


def annotate(source: Path, findings: list[dict], out: Path) -> AnnotatedCopy:
    """Write to `out` the district's workbook with every error and warning marked (module docstring), and
    say where each finding of `findings` was marked."""
    source, out = Path(source), Path(out)
    places: list[Place | None] = [None] * len(findings)
    reportable = [i for i, f in enumerate(findings) if f.get("severity") in ("error", "warning")]
    wb = _open_source(source)
    if wb is None:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
    else:
        _clear_earlier_marks(wb)
        header_cache: dict[str, Any] = {}
        marks: dict[tuple[str, str], list[dict]] = {}
        for i in reportable:
            f = findings[i]
            ws = _find_sheet(wb, f.get("sheet"))
            row = f.get("row_number")
            if ws is None or not row:
                continue
            header = None if _is_key_value(ws, f.get("sheet")) else locate_header(
                ws, f.get("sheet"), f.get("column_key"), header_cache)
            column = header[0] if header else locate_column(ws, f.get("sheet"), f.get("column_key"),
                                                            header_cache, int(row)) or 1
            cell = _anchor(ws, int(row), column)
            places[i] = Place(ws.title, cell.coordinate, header[1] if header else None)
            marks.setdefault((ws.title, cell.coordinate), []).append(f)
        for (title, coordinate), on_cell in marks.items():
            cell = wb[title][coordinate]
            worst = "error" if any(f["severity"] == "error" for f in on_cell) else "warning"
            cell.fill = FILLS[worst]
            text = _text("\n\n".join(_finding_line(f) for f in on_cell))
            if cell.comment is not None and cell.comment.author != AUTHOR:
                text = f"{text}{CLERK_NOTE}{cell.comment.text}"
            comment = Comment(text, AUTHOR)
            comment.width = 360
            comment.height = min(600, 40 + 16 * (text.count("\n") + 1 + len(text) // 55))
            cell.comment = comment
    ws = _write_errors_sheet(wb, [findings[i] for i in reportable], [places[i] for i in reportable])
    wb.active = wb.sheetnames.index(ws.title)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = other is ws
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return AnnotatedCopy(out, places)


def annotate_workbook(source: Path, findings: list[dict], out: Path) -> Path:
    """Write to `out` the district's workbook with every error and warning marked (module docstring)."""
    return annotate(source, findings, out).path
