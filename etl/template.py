"""The district workbook of template DA33-MN-v1: the blank template, and the writer the demo generator shares.

Sheets, keys, Vietnamese labels, column order and types come from the layout (`etl/layouts/`), never
from code, so a new template version changes what is written without touching this module.

Every table sheet is written the same way: a title row, the Vietnamese label row, the key row, then
one row per school (or course). `ThongTin` holds the label in column A and the value in column B.
Enumeration cells hold the Vietnamese label (`Công lập`, `Cuối năm`), which the reader accepts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from etl.config import ProvinceConfig
from etl.layout import ColumnSpec, Layout, SheetSpec, layout_dir, load_layout
from etl.registry import current_school_year

KY_BAO_CAO_TEXT = {"HKI": "học kỳ I", "CN": "cuối năm"}
FIRST_DATA_ROW = 3  # 0-based: title, labels and keys stand above the data
# Blank rows under the registry schools that still carry the validations: a school the registry
# does not know yet can be added, and courses are entered from scratch.
TEMPLATE_SPARE_ROWS = 30
INSTRUCTIONS_SHEET = "HuongDan"  # not a template sheet: the reader reports it as ignored (info)
MINIMUM = {"so_hoc_vien": 1}  # count columns whose lower bound is not 0 (submission-template.md)
WIDTHS = {"ma_truong": 11, "ten_truong": 34, "ten_lop": 46, "nguon_kinh_phi": 14, "hinh_thuc": 14}
DEFAULT_WIDTH = 12


def district_record(province: ProvinceConfig, ma_don_vi: str) -> dict[str, str]:
    """The registry row of district `ma_don_vi`; ValueError (Vietnamese and English) if there is none."""
    for district in province.districts:
        if district["ma_don_vi"] == ma_don_vi:
            return district
    known = ", ".join(d["ma_don_vi"] for d in province.districts)
    raise ValueError(
        f"Mã đơn vị {ma_don_vi!r} không có trong danh mục đơn vị của tỉnh {province.slug} / "
        f"unknown district code {ma_don_vi!r}: not in the registry of {province.slug} (known: {known})"
    )


def default_school_year(province: ProvinceConfig, ma_don_vi: str, today: dt.date) -> str:
    """The current school year, or the latest earlier one in which the district has open schools."""
    year = current_school_year(today)
    earliest = min((s["mo_tu_nam_hoc"] for s in province.schools), default=year)
    candidate = year
    while candidate >= earliest:
        if province.open_schools(ma_don_vi, candidate):
            return candidate
        start = int(candidate[:4]) - 1
        candidate = f"{start}-{start + 1}"
    return year


def enum_label(layout: Layout, enum: str, key: str) -> str:
    """The Vietnamese label of an enumeration key (`cong_lap` -> `Công lập`); the key if it has none."""
    forms = layout.enums[enum].get(key, ())
    return next((form for form in forms if form != key), key)


class _Formats:
    """The cell formats of one workbook."""

    def __init__(self, wb: Workbook) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 13, "align": "left"})
        self.label = wb.add_format(
            {
                "bold": True,
                "text_wrap": True,
                "align": "center",
                "valign": "vcenter",
                "border": 1,
                "bg_color": "#DDEBF7",
            }
        )
        self.key = wb.add_format({"italic": True, "font_color": "#7F7F7F", "font_size": 9, "align": "center"})
        self.text = wb.add_format({"num_format": "@"})
        self.date = wb.add_format({"num_format": "dd/mm/yyyy"})
        self.decimal = wb.add_format({"num_format": "#,##0.0"})
        self.field = wb.add_format({"bold": True, "text_wrap": True, "valign": "vcenter"})
        self.heading = wb.add_format({"bold": True, "font_size": 12})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})


def _validation(layout: Layout, column: ColumnSpec) -> dict | None:
    """The data validation of a column's cells, by its type; None for free text and codes. Each also shows,
    when a cell is selected, what to write there (Excel's input message: title ≤ 32, text ≤ 255 characters)."""
    rule = _validation_rule(layout, column)
    if rule is None:
        return None
    hint = {"int": "số nguyên, để trống được tính là 0.", "decimal": "số, đơn vị như ở tên cột (ví dụ 12,5).",
            "flag": "1 nếu có, 0 nếu không.", "enum": "chọn trong danh sách.", "date": "ngày dạng dd/mm/yyyy."}
    return {**rule, "input_title": "Cách ghi",
            "input_message": f"{column.label_vi}: {hint[column.type]}"[:255]}


def _validation_rule(layout: Layout, column: ColumnSpec) -> dict | None:
    message = {"error_title": "Giá trị không hợp lệ"}
    if column.type == "int":
        minimum = MINIMUM.get(column.key, 0)
        return {
            "validate": "integer",
            "criteria": ">=",
            "value": minimum,
            "error_message": f"Nhập số nguyên ≥ {minimum}.",
            **message,
        }
    if column.type == "decimal":
        return {
            "validate": "decimal",
            "criteria": ">=",
            "value": 0,
            "error_message": "Nhập số ≥ 0.",
            **message,
        }
    if column.type == "flag":
        return {
            "validate": "integer",
            "criteria": "between",
            "minimum": 0,
            "maximum": 1,
            "error_message": "Nhập 1 (có) hoặc 0 (không).",
            **message,
        }
    if column.type == "enum":
        choices = [enum_label(layout, column.key, key) for key in layout.enums[column.key]]
        return {
            "validate": "list",
            "source": choices,
            "error_message": "Chọn một giá trị trong danh sách: " + ", ".join(choices) + ".",
            **message,
        }
    if column.type == "date":
        return {
            "validate": "date",
            "criteria": ">=",
            "value": dt.date(2000, 1, 1),
            "error_message": "Nhập ngày dạng dd/mm/yyyy.",
            **message,
        }
    return None


def _write_cell(
    ws: Worksheet, row: int, col: int, column: ColumnSpec, value: object, layout: Layout, fmt: _Formats
) -> None:
    """One value, typed as the column wants it: codes and texts as text, enumerations as labels."""
    if value is None:
        # an empty cell to fill keeps the format its future value needs: text cells are text, or Excel
        # turns a phone number typed into one into a number and drops its leading zero
        blank_format = {"code": fmt.text, "text": fmt.text, "school_year": fmt.text, "date": fmt.date}.get(
            column.type
        )
        if blank_format:
            ws.write_blank(row, col, None, blank_format)
    elif column.type == "code":
        ws.write_string(row, col, str(value), fmt.text)
    elif column.type == "enum":
        ws.write_string(row, col, enum_label(layout, column.key, str(value)))
    elif column.type == "date":
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt.date)
    elif column.type == "decimal":
        ws.write_number(row, col, value, fmt.decimal)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value)
    elif column.type in ("text", "school_year"):
        ws.write_string(row, col, str(value), fmt.text)  # stays text when the clerk types over it
    else:
        ws.write_string(row, col, str(value))


def _write_key_value(
    wb: Workbook, sheet: SheetSpec, values: Mapping[str, object], layout: Layout, fmt: _Formats
) -> None:
    """`ThongTin`: one row per key, label in column A, value (or an empty cell to fill) in column B."""
    ws = wb.add_worksheet(sheet.written_as)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 36)
    for row, column in enumerate(sheet.columns):
        ws.write_string(row, 0, column.label_vi, fmt.field)
        _write_cell(ws, row, 1, column, values.get(column.key), layout, fmt)
        rule = _validation(layout, column)
        if rule:
            ws.data_validation(row, 1, row, 1, rule)


def _write_table(
    wb: Workbook,
    sheet: SheetSpec,
    title: str,
    rows: Sequence[Mapping[str, object]],
    spare_rows: int,
    layout: Layout,
    fmt: _Formats,
) -> None:
    """A table sheet: title, labels, keys, then `rows` (missing keys stay empty cells to fill)."""
    ws = wb.add_worksheet(sheet.written_as)
    last_col = len(sheet.columns) - 1
    ws.merge_range(0, 0, 0, last_col, title, fmt.title)
    ws.set_row(1, 48)
    for col, column in enumerate(sheet.columns):
        ws.set_column(
            col, col, WIDTHS.get(column.key, DEFAULT_WIDTH), fmt.text if column.type == "code" else None
        )
        ws.write_string(1, col, column.label_vi, fmt.label)
        ws.write_string(2, col, column.key, fmt.key)
    for i, values in enumerate(rows):
        for col, column in enumerate(sheet.columns):
            if column.key in values:
                _write_cell(ws, FIRST_DATA_ROW + i, col, column, values[column.key], layout, fmt)
    last_row = FIRST_DATA_ROW + len(rows) + spare_rows - 1
    if last_row >= FIRST_DATA_ROW:
        for col, column in enumerate(sheet.columns):
            rule = _validation(layout, column)
            if rule:
                ws.data_validation(FIRST_DATA_ROW, col, last_row, col, rule)
    # keep the labels and the school's code and name in view while scrolling
    frozen_cols = sum(1 for c in sheet.columns[:2] if c.type in ("code", "text"))
    ws.freeze_panes(FIRST_DATA_ROW, frozen_cols)


def instruction_lines(layout: Layout, fields: Mapping[str, str]) -> list[str]:
    """The instructions of the template version (`etl/layouts/<version>.instructions.txt`), filled in; none
    if the version has no such file."""
    path = layout_dir() / f"{layout.template_version}.instructions.txt"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.format_map(fields) for line in lines if line.strip() and not line.startswith("# ")]


def _write_instructions(wb: Workbook, lines: Sequence[str], fmt: _Formats) -> None:
    ws = wb.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 120, fmt.wrap)
    for row, line in enumerate(lines):
        if line.startswith("## "):
            ws.write_string(row, 0, line[3:], fmt.heading)
        else:
            ws.write_string(row, 0, line, fmt.wrap)


def write_workbook(
    out_path: Path,
    header: Mapping[str, object],
    tables: Mapping[str, Sequence[Mapping[str, object]]],
    *,
    title_suffix: str,
    created: dt.datetime,
    spare_rows: int = 0,
    layout: Layout | None = None,
    instructions: Sequence[str] = (),
) -> Path:
    """Write a workbook of the layout's template version (default: the current one): every sheet of the
    layout, in layout order, under the name the version gives it.

    `header` maps ThongTin keys to values (str, int or datetime.date; absent = empty cell). `tables`
    maps a table sheet to its rows, each a mapping key -> value with enumerations given as keys
    (`cong_lap`); a sheet absent from `tables` gets its header rows only. Same arguments, same bytes:
    the workbook's creation time is `created`.
    """
    layout = layout or load_layout()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(out_path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    wb.set_properties(
        {"title": f"Biểu mẫu {layout.template_version}", "author": "Phòng GD&ĐT", "created": created}
    )
    fmt = _Formats(wb)
    if instructions:
        _write_instructions(wb, instructions, fmt)
    for sheet in layout.sheets.values():
        if sheet.kind == "key_value":
            _write_key_value(wb, sheet, header, layout, fmt)
        else:
            title = f"{sheet.title or sheet.written_as}{title_suffix}"
            _write_table(wb, sheet, title, tables.get(sheet.name, ()), spare_rows, layout, fmt)
    wb.close()
    return out_path


def school_identity_rows(schools: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """The registry columns of the schools, as the first columns of every school sheet."""
    return [
        {"ma_truong": s["ma_truong"], "ten_truong": s["ten_truong"], "loai_hinh": s["loai_hinh"]}
        for s in schools
    ]


def write_blank_template(
    province: ProvinceConfig, ma_don_vi: str, out_path: Path, *, nam_hoc: str | None = None,
    template_version: str | None = None,
) -> Path:
    """A blank workbook of a template version (default: the current one, `etl/layouts/versions.yaml`) for
    one district, ready to fill in.

    Every school sheet lists the registry schools of the district open in `nam_hoc` (default: the
    current school year, or the latest one in which the district has open schools) with code, name and
    type; count cells are empty, with validations (whole numbers ≥ 0, lists for enumerations).
    ThongTin carries the template version and the district's code and name. ValueError for a district
    that is not in the registry.
    """
    layout = load_layout(template_version)
    district = district_record(province, ma_don_vi)
    year = nam_hoc or default_school_year(province, ma_don_vi, dt.date.today())
    rows = school_identity_rows(province.open_schools(ma_don_vi, year))
    tables = {sheet.name: rows for sheet in layout.school_sheets}
    # The school year is written: the schools listed are those open that year, so the file is for that year,
    # and a year typed by hand (`2020-2019`, last year's) is the commonest cause of a wrong_period rejection.
    header = {
        "phien_ban": layout.template_version,
        "ma_don_vi": ma_don_vi,
        "ten_don_vi": district["ten_don_vi"],
        "nam_hoc": year,
    }
    fields = {
        "phien_ban": layout.template_version, "ma_don_vi": ma_don_vi, "ten_don_vi": district["ten_don_vi"],
        "nam_hoc": year, "han_hki": province.deadline(year, "HKI").strftime("%d/%m/%Y"),
        "han_cn": province.deadline(year, "CN").strftime("%d/%m/%Y"),
        "ten_so": str(province.meta.get("ten_so") or "Sở GD&ĐT"), "email_so": str(province.meta.get("email_so") or ""),
    }
    return write_workbook(
        out_path,
        header,
        tables,
        title_suffix=f" – {district['ten_don_vi']} – năm học {year}",
        created=dt.datetime(int(year[:4]), 8, 1, 8, 0),
        spare_rows=TEMPLATE_SPARE_ROWS,
        layout=layout,
        instructions=instruction_lines(layout, fields),
    )
