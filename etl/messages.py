"""Vietnamese message templates of the rules checked outside Great Expectations, and message formatting.

The rules checked by Great Expectations carry their code, severity, message and reason in their suite
(`expectations/*.json`, each expectation's `meta`). The rules below need the registry, several rows at
once or other submissions, so `etl/validate.py` and `etl/plausibility.py` check them in pandas; their
definitions live here as data all the same, and `docs/rules.md` is generated from both.

Templates are `str.format` strings. Fields: `{L[key]}` is the Vietnamese label of a template column
(from the layout), `{S[Sheet]}` the sheet name as the district wrote it, any other `{name}` a value of
the row (or of the finding) formatted for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from string import Formatter
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Rule:
    """A rule checked in pandas: `id` names the variant, `code` is what dq.issue.rule holds."""

    id: str
    code: str
    severity: str
    sheet: str | None
    columns: tuple[str, ...]
    message: str
    why: str
    source: str = "etl/validate.py"
    located: bool = True  # the message starts with "Biểu '<sheet>', dòng <row>: "


_RULES = (
    Rule(
        "wrong_period.expected",
        "wrong_period",
        "error",
        "ThongTin",
        ("nam_hoc", "ky_bao_cao"),
        "'{L[column]}' = '{value}' nhưng đợt tiếp nhận này là năm học {expected_nam_hoc}, kỳ {expected_ky_bao_cao}: "
        "kiểm tra lại năm học và kỳ báo cáo ở biểu thông tin, hoặc nộp biểu vào đúng kỳ.",
        "A file sent for another period would replace that period's current data.",
    ),
    Rule(
        "wrong_period.out_of_range",
        "wrong_period",
        "error",
        "ThongTin",
        ("nam_hoc",),
        "'{L[nam_hoc]}' = '{value}' nằm ngoài các năm học hệ thống tiếp nhận báo cáo (từ {first_nam_hoc} đến năm học "
        "hiện tại {current_nam_hoc}): kiểm tra lại năm học ở biểu thông tin (thường do gõ nhầm năm).",
        "A school year not begun yet has nothing to report, and a mistyped year (2091-2092 for 2019-2020) is not "
        "a school year the warehouse holds: it would be published as a period of its own, or fail the load.",
    ),
    Rule(
        "unknown_school.not_in_registry",
        "unknown_school",
        "error",
        "TruongLop, DoiNgu, DanhGiaChuan, BoiDuong",
        ("ma_truong",),
        "'{L[ma_truong]}' = '{ma_truong}' không có trong danh mục trường của Sở: kiểm tra lại mã 8 chữ số "
        "(2 số mã tỉnh, 3 số mã đơn vị, 3 số thứ tự); trường mới thành lập cần đề nghị Sở bổ sung vào danh mục.",
        "Figures of a school that is not in the registry cannot be attributed to a school or a district.",
    ),
    Rule(
        "unknown_school.other_district",
        "unknown_school",
        "error",
        "TruongLop, DoiNgu, DanhGiaChuan, BoiDuong",
        ("ma_truong",),
        "'{L[ma_truong]}' = '{ma_truong}' là mã của {ten_truong_danh_muc}, thuộc đơn vị {ma_don_vi_danh_muc}, "
        "không thuộc đơn vị {ma_don_vi} đang báo cáo: kiểm tra lại mã trường.",
        "A school counted by two districts would be counted twice in the province totals.",
    ),
    Rule(
        "unknown_school.not_open",
        "unknown_school",
        "error",
        "TruongLop, DoiNgu, DanhGiaChuan, BoiDuong",
        ("ma_truong",),
        "'{L[ma_truong]}' = '{ma_truong}' ({ten_truong_danh_muc}) không hoạt động trong năm học {nam_hoc} "
        "theo danh mục của Sở ({hoat_dong}): trường đã đóng hoặc sáp nhập thì không khai dòng này; "
        "nếu danh mục sai, đề nghị Sở cập nhật.",
        "The registry says which schools exist in which school year; a closed or merged school's pupils are "
        "reported by the school that took them over.",
    ),
    Rule(
        "unknown_school.not_open_yet",
        "unknown_school",
        "error",
        "TruongLop, DoiNgu, DanhGiaChuan, BoiDuong",
        ("ma_truong",),
        "'{L[ma_truong]}' = '{ma_truong}' ({ten_truong_danh_muc}) chưa mở trong năm học {nam_hoc} "
        "theo danh mục của Sở ({hoat_dong}): kiểm tra lại mã trường và năm học; nếu danh mục sai, "
        "đề nghị Sở cập nhật.",
        "A school opened later has no figures for that year; telling the clerk it was closed or merged (the "
        "message of a closed school) would send them looking for a merger that never happened.",
    ),
    Rule(
        "unknown_school.mistyped",
        "unknown_school",
        "error",
        "TruongLop, DoiNgu, DanhGiaChuan, BoiDuong",
        ("ma_truong",),
        "'{L[ma_truong]}' = '{ma_truong}' không phải mã của trường ghi ở dòng này ('{ten_truong}'): theo danh mục "
        "của Sở, {ten_truong_danh_muc} có mã '{ma_truong_dung}' và biểu không có dòng nào khác của trường này. "
        "Có lẽ mã bị ghi nhầm: sửa thành '{ma_truong_dung}'.",
        "A mistyped code made the row unknown (or another school listed twice) and the school the clerk sees in "
        "that row missing. When the row's name is, alone in its sheet, that of one school of the district left "
        "out of the sheet, the row is told the code to write, and the school is not told missing; its figures "
        "are not compared with other sheets' rows of the code written.",
    ),
    Rule(
        "missing_school",
        "missing_school",
        "error",
        "TruongLop, DoiNgu",
        ("ma_truong",),
        "Thiếu trường '{ma_truong}' ({ten_truong_danh_muc}): theo danh mục của Sở trường đang hoạt động trong năm học "
        "{nam_hoc}, nên phải có một dòng ở biểu này.",
        "Totals of an incomplete district would be too low; only schools open in that school year are expected "
        "(a closed or merged school is not), so completeness never exceeds 100 %.",
    ),
    Rule(
        "missing_school.partial_sheet",
        "missing_school",
        "warning",
        "DanhGiaChuan, BoiDuong",
        ("ma_truong",),
        "Không có dòng của trường '{ma_truong}' ({ten_truong_danh_muc}) ở biểu này, trong khi biểu có các trường "
        "khác: số liệu của trường ở biểu này được tính là 0. Nếu trường có số liệu, hãy bổ sung dòng của trường.",
        "A school left out of a rating or training sheet that lists the others counts 0 there, while its teachers "
        "still count in the indicators' denominators (bd_theo_chuan, gv_kha_tro_len...): the district's "
        "percentages come out too low. The template requires these rows only where the sheet is filled, so a "
        "warning, not an error; an empty or absent sheet (HKI) is not this finding.",
    ),
    Rule(
        "duplicate_school",
        "duplicate_school",
        "error",
        "TruongLop, DoiNgu, DanhGiaChuan, BoiDuong",
        ("ma_truong",),
        "'{L[ma_truong]}' = '{ma_truong}' đã có ở dòng {first_row}: mỗi trường chỉ khai một dòng, đề nghị gộp hoặc xoá "
        "dòng trùng.",
        "A school listed twice would be counted twice.",
    ),
    Rule(
        "district_mismatch",
        "district_mismatch",
        "error",
        "ThongTin",
        ("ma_don_vi",),
        "'{L[ma_don_vi]}' = '{value}' là mã của {ten_danh_muc}, nhưng các trường trong tệp ({so_truong} mã trường, "
        "ví dụ '{ma_truong}' {ten_truong_danh_muc}) đều là trường của đơn vị {ma_don_vi_truong} "
        "({ten_don_vi_truong}){ten_ghi}: kiểm tra lại mã đơn vị ở biểu thông tin; nếu mã đúng thì số liệu trong "
        "tệp là của đơn vị khác. Các trường được đối chiếu với danh mục của đơn vị {ma_don_vi_truong}.",
        "A district code mistyped as a neighbour's (or a neighbour's template reused) makes every school row "
        "'not of the district' and every school of the written district 'missing': dozens of findings for one "
        "cell, none naming it. When no school code of the file is the written district's and all are one other "
        "district's, that is one finding, and the schools are checked against the district they belong to.",
    ),
    Rule(
        "name_mismatch.district",
        "name_mismatch",
        "warning",
        "ThongTin",
        ("ten_don_vi",),
        "'{L[ten_don_vi]}' = '{value}' khác tên trong danh mục của Sở cho mã {ma_don_vi} ('{ten_danh_muc}'): "
        "kiểm tra lại mã đơn vị; nếu mã đúng thì chỉ cần sửa tên cho thống nhất.",
        "The code identifies the district; a different name often means a wrong code.",
    ),
    Rule(
        "name_mismatch.school",
        "name_mismatch",
        "warning",
        "TruongLop, DoiNgu, DanhGiaChuan, BoiDuong",
        ("ten_truong",),
        "'{L[ten_truong]}' = '{value}' khác tên trong danh mục của Sở cho mã {ma_truong} ('{ten_danh_muc}'): "
        "kiểm tra lại mã trường; nếu mã đúng thì chỉ cần sửa tên cho thống nhất.",
        "The code identifies the school; a different name often means a wrong code. Names are compared without "
        "case, diacritics, punctuation and generic words such as 'Trường', 'Mầm non', 'MN', 'Phòng GD&ĐT', 'huyện'.",
    ),
    Rule(
        "missing_sheet.danh_gia_chuan",
        "missing_sheet",
        "error",
        "DanhGiaChuan",
        (),
        "Thiếu biểu '{sheet}': kỳ Cuối năm (CN) bắt buộc có biểu đánh giá chuẩn nghề nghiệp GV và CBQL.",
        "The end-of-year round carries the annual evaluation; only added when the reader has not reported the "
        "missing sheet already.",
        located=False,
    ),
    Rule(
        "missing_sheet.empty",
        "missing_sheet",
        "error",
        "DanhGiaChuan",
        (),
        "Biểu '{sheet}' không có dòng số liệu nào: kỳ Cuối năm (CN) bắt buộc khai đánh giá chuẩn nghề nghiệp của "
        "từng trường (kỳ HKI thì được để trống).",
        "The end-of-year round carries the annual evaluation; in HKI the sheet may be empty.",
    ),
    Rule(
        "yoy_change",
        "yoy_change",
        "warning",
        None,
        ("every count column",),
        "Tổng '{label}' của đơn vị {ma_don_vi} là {current}, năm học trước (kỳ Cuối năm đã tiếp nhận) là {previous}: "
        "thay đổi {change} vượt ngưỡng ±{threshold}. Đề nghị kiểm tra lại số liệu; nếu đúng, ghi rõ lý do khi báo cáo.",
        "A district total rarely moves by more than 30 % in a year; a jump usually means a school left out, "
        "counted twice or typed with a digit too many.",
        "etl/plausibility.py",
    ),
    Rule(
        "outlier",
        "outlier",
        "warning",
        None,
        ("indicator",),
        "Chỉ số '{indicator}' của đơn vị {ma_don_vi} = {value} khác xa các đơn vị khác (trung vị {median}, "
        "điểm z hiệu chỉnh {z}): đề nghị kiểm tra lại số liệu.",
        "Modified z-score (Iglewicz & Hoaglin) |M| > 3.5 across districts, robust to the outliers it looks for.",
        "etl/plausibility.py",
    ),
)
RULES: dict[str, Rule] = {r.id: r for r in _RULES}

# Rule codes the reader (etl/read.py) reports; listed so that docs/rules.md covers every code.
READER_RULES: dict[str, str] = {
    "unreadable_file": "the file cannot be opened as .xlsx or as a .zip of CSV files",
    "file_too_large": "the file (or its uncompressed content) exceeds the size limit",
    "missing_sheet": "a sheet required in the round is absent or holds no data",
    "duplicate_sheet": "two sheets match the same template sheet",
    "missing_column": "a column marked required in the template is absent from its sheet",
    "duplicate_column": "two columns match the same template column",
    "ambiguous_column": "a column whose header over several rows (a group label and its sub-label) could be two or "
    "more template columns: not read (an error when one of them is missing from the sheet)",
    "header_not_found": "no header row within the first rows of a sheet",
    "unexpected_layout": "a second table below the first one",
    "merged_cells": "merged cells over a table's data or totals cells (only the first holds the value)",
    "duplicate_value": "a ThongTin item written twice",
    "not_a_number": "a count cell that is not a whole number, or one too large to store (over 2,147,483,647)",
    "negative": "a count below 0",
    "formula_error": "a cell holding a formula error (#REF!, #DIV/0!, ...) or a formula saved without its value",
    "invalid_value": "a value outside its enumeration, or not a date where a date is expected",
    "missing_value": "a required value left empty",
    "unlabelled_row": "a row holding numbers but neither a school code nor a totals label",
    "totals_row_mismatch": "the totals row differs from the sum of the school rows",
    "ignored_sheet": "a sheet (or archive member) not in the template, skipped",
    "ignored_column": "a column not in the template (STT, notes), skipped",
    "ignored_row": "a row without data of its own (notes, signatures, a group's sums, a totals row too many), skipped",
}

# Rule codes ingest (etl/ingest.py) reports about a file as received, before any reading.
INGEST_RULES: dict[str, str] = {
    "duplicate_of_replaced": "the file is a byte copy of a version a later file replaced: still a duplicate (not "
    "processed again), but the district is told how to send those figures again",
}


def format_value(value: Any) -> str:
    """A value for display and for dq.issue.value: whole numbers without decimals, a decimal comma."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "∞"
        if value.is_integer():
            return str(int(value))
        return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    if hasattr(value, "item"):  # numpy scalar
        return format_value(value.item())
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return str(value)


def location(sheet: str | None, row_number: int | None, row_label: str | None = None) -> str:
    """The start of every message: where the district finds the problem."""
    if sheet is None:
        return ""
    where = f"Biểu '{sheet}'"
    if row_number is not None:
        where += f", dòng {row_number}"
    if row_label:
        where += f" ({row_label})"
    return where + ": "


def row_label(row_key: str, value: str) -> str | None:
    """How a row is named after its Excel row number: by school code, or by course name."""
    if not value:
        return None
    return f"mã trường {value}" if row_key == "ma_truong" else f"'{value}'"


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _KeepUnknown(Formatter):
    """Fills what it knows and leaves every other field as written (for the rules document)."""

    def get_value(self, key, args, kwargs):
        return kwargs[key] if key in kwargs else _Placeholder(key)


class _Placeholder(str):
    def __new__(cls, name: str):
        return super().__new__(cls, "{" + name + "}")

    def __getitem__(self, item):  # {L[key]} when L is unknown
        return "{" + f"{self[1:-1]}[{item}]" + "}"


def render(template: str, fields: dict[str, Any]) -> str:
    """Fill a template; a field the finding does not have stays visible as {name} instead of raising."""
    return template.format_map(_Placeholders(fields))


def render_for_docs(template: str, labels: dict[str, str], sheets: dict[str, str]) -> str:
    """A template with the labels and sheet names filled in and the values left as {name}."""
    return _KeepUnknown().vformat(template, (), {"L": labels, "S": sheets})
