"""Checks of a province configuration (config/provinces/<slug>/) before anything uses it.

A Sở that is not the one the project was built on brings its own registry, typed or exported by its staff.
What they write wrong must stop the run with a message they can act on (file, line, column, value, in
Vietnamese), not a database traceback, and never be loaded half right: a school code written twice was
silently given to the last district that lists it while the checks of the districts' files used the
first. Each function returns the problems of one file; `ProvinceConfig.check` raises them all at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")
DISTRICT_CODE = re.compile(r"\d{3}")
PROVINCE_CODE = re.compile(r"\d{2}")
SCHOOL_CODE = re.compile(r"\d{8}")  # submission-template.md: 2-digit province, 3-digit district, 3-digit sequence
LOAI_HINH = ("cong_lap", "tu_thuc", "dan_lap")
UNIT_TYPES = ("province", "district")
ROUNDS = ("HKI", "CN")

COLUMNS = {
    "districts.csv": ("ma_don_vi", "ten_don_vi", "email"),
    "schools.csv": ("ma_truong", "ten_truong", "ma_don_vi", "loai_hinh", "mo_tu_nam_hoc", "dong_tu_nam_hoc"),
    "targets.csv": ("unit_type", "ma_don_vi", "indicator", "target_value", "target_nam_hoc", "baseline_nam_hoc",
                    "phase", "seed"),
}
META_REQUIRED = ("slug", "ma_tinh", "ten_tinh", "ten_so", "deadlines", "norms")
NORMS = ("gv_per_nhom_tre", "gv_per_lop_mau_giao")

Rows = Sequence[Mapping[str, str]]


def _is_school_year(value: str) -> bool:
    match = SCHOOL_YEAR.fullmatch(value)
    return bool(match) and int(match.group(2)) == int(match.group(1)) + 1


def _at(file: str, line: int, column: str) -> str:
    """Where a problem is, as the staff find it in a spreadsheet: the header is line 1."""
    return f"{file}, dòng {line}, cột {column}"


def meta_problems(meta: object) -> list[str]:
    """province.yaml: the keys every command needs, the province code as two digits of text, a valid day for
    each round's deadline and positive staffing norms."""
    if not isinstance(meta, Mapping):
        return ["province.yaml: phải là các dòng 'khóa: giá trị' (slug, ma_tinh, ten_tinh, ten_so, deadlines, norms)"]
    problems = [f"province.yaml: thiếu khóa '{key}'" for key in META_REQUIRED if meta.get(key) in (None, "")]
    ma_tinh = meta.get("ma_tinh")
    if ma_tinh not in (None, "") and not (isinstance(ma_tinh, str) and PROVINCE_CODE.fullmatch(ma_tinh)):
        # YAML reads an unquoted 06 as the number 6 (and 08 as text): the code must be quoted
        problems.append(f"province.yaml: ma_tinh = {ma_tinh!r} phải là mã tỉnh 2 chữ số đặt trong dấu nháy, "
                        f"ví dụ ma_tinh: \"06\"")
    deadlines = meta.get("deadlines")
    if deadlines is not None:
        for ky in ROUNDS:
            day = deadlines.get(ky) if isinstance(deadlines, Mapping) else None
            try:
                dt.date(2020, int(day["month"]), int(day["day"]))  # a leap year: 29/02 is a day
            except (TypeError, KeyError, ValueError):
                problems.append(f"province.yaml: deadlines.{ky} phải là {{month: <tháng>, day: <ngày>}} "
                                f"của một ngày có thật (đang ghi: {day!r})")
    norms = meta.get("norms")
    if norms is not None:
        for key in NORMS:
            value = norms.get(key) if isinstance(norms, Mapping) else None
            try:
                ok = Decimal(str(value)) > 0
            except InvalidOperation:
                ok = False
            if not ok:
                problems.append(f"province.yaml: norms.{key} phải là một số dương, ví dụ \"2.5\" (đang ghi: {value!r})")
    first = meta.get("first_nam_hoc")
    if first is not None and not _is_school_year(str(first)):
        problems.append(f"province.yaml: first_nam_hoc = {first!r} phải là một năm học, ví dụ 2018-2019")
    return problems


def missing_columns(file: str, header: Sequence[str]) -> list[str]:
    missing = [c for c in COLUMNS[file] if c not in header]
    if not missing:
        return []
    hint = ""
    if len(header) == 1 and ";" in header[0]:
        hint = " (các cột đang phân cách bằng dấu ';': lưu lại dạng CSV UTF-8, phân cách bằng dấu phẩy)"
    return [f"{file}: thiếu cột {', '.join(missing)}; dòng đầu phải là: {','.join(COLUMNS[file])}{hint}"]


def district_problems(rows: Rows) -> list[str]:
    problems, seen = [], {}
    for line, row in enumerate(rows, start=2):
        code = row["ma_don_vi"]
        if not DISTRICT_CODE.fullmatch(code):
            problems.append(f"{_at('districts.csv', line, 'ma_don_vi')}: '{code}' phải là mã 3 chữ số "
                            f"(Excel bỏ số 0 đầu khi cột để dạng số: định dạng cột là Văn bản)")
        elif code in seen:
            problems.append(f"{_at('districts.csv', line, 'ma_don_vi')}: mã '{code}' trùng với dòng {seen[code]}")
        else:
            seen[code] = line
        if not row["ten_don_vi"]:
            problems.append(f"{_at('districts.csv', line, 'ten_don_vi')}: chưa ghi tên đơn vị của mã '{code}'")
    return problems


def school_problems(rows: Rows, ma_tinh: str, districts: set[str]) -> list[str]:
    """Each school code once per school year, 8 digits beginning with the province's code, in a listed
    district, with a type and the school years it is open."""
    problems, seen = [], {}
    for line, row in enumerate(rows, start=2):
        code = row["ma_truong"]

        def at(column: str, line: int = line) -> str:
            return _at("schools.csv", line, column)

        if not SCHOOL_CODE.fullmatch(code):
            problems.append(f"{at('ma_truong')}: '{code}' phải là mã trường 8 chữ số (2 số mã tỉnh, 3 số mã "
                            f"huyện, 3 số thứ tự; Excel bỏ số 0 đầu khi cột để dạng số)")
        elif not code.startswith(ma_tinh):
            problems.append(f"{at('ma_truong')}: '{code}' không bắt đầu bằng mã tỉnh {ma_tinh} (province.yaml): "
                            f"danh mục trường của tỉnh khác?")
        else:
            # a school moved to another district keeps its code: its old row closes the year its new row
            # opens (etl.registry), so a code may be listed again for school years the others do not cover
            span = (row["mo_tu_nam_hoc"], row["dong_tu_nam_hoc"] or "9999")
            clash = next((earlier for earlier, (opened, closed) in seen.get(code, [])
                          if span[0] < closed and opened < span[1]), None)
            if clash is not None:
                problems.append(f"{at('ma_truong')}: mã trường '{code}' trùng với dòng {clash} trong cùng năm học; "
                                f"mỗi trường một dòng cho mỗi năm học (trường chuyển huyện: ghi dong_tu_nam_hoc "
                                f"của dòng cũ bằng mo_tu_nam_hoc của dòng mới)")
            seen.setdefault(code, []).append((line, span))
        if row["ma_don_vi"] not in districts:
            problems.append(f"{at('ma_don_vi')}: '{row['ma_don_vi']}' của trường '{code}' không có trong "
                            f"districts.csv")
        if row["loai_hinh"] not in LOAI_HINH:
            problems.append(f"{at('loai_hinh')}: '{row['loai_hinh']}' phải là một trong {', '.join(LOAI_HINH)}")
        if not _is_school_year(row["mo_tu_nam_hoc"]):
            problems.append(f"{at('mo_tu_nam_hoc')}: '{row['mo_tu_nam_hoc']}' phải là một năm học, ví dụ 2010-2011")
        closed = row["dong_tu_nam_hoc"]
        if closed and not _is_school_year(closed):
            problems.append(f"{at('dong_tu_nam_hoc')}: '{closed}' phải là một năm học, ví dụ 2020-2021, hoặc để "
                            f"trống nếu trường còn hoạt động")
        elif closed and closed <= row["mo_tu_nam_hoc"]:
            problems.append(f"{at('dong_tu_nam_hoc')}: trường đóng từ {closed}, không sau năm mở "
                            f"{row['mo_tu_nam_hoc']}")
    return problems


def target_problems(rows: Rows, indicators: set[str], districts: set[str] | None) -> list[str]:
    """A unit, a known indicator, a number and the school years; a district target names a listed district
    (when the registry is configured: a province may ship its targets before its registry)."""
    problems = []
    for line, row in enumerate(rows, start=2):

        def at(column: str, line: int = line) -> str:
            return _at("targets.csv", line, column)

        if row["unit_type"] not in UNIT_TYPES:
            problems.append(f"{at('unit_type')}: '{row['unit_type']}' phải là province hoặc district")
        elif row["unit_type"] == "district" and districts is not None and row["ma_don_vi"] not in districts:
            problems.append(f"{at('ma_don_vi')}: mục tiêu của đơn vị '{row['ma_don_vi']}', không có trong "
                            f"districts.csv")
        if row["indicator"] not in indicators:
            problems.append(f"{at('indicator')}: chỉ tiêu '{row['indicator']}' không có trong "
                            f"config/indicators.csv")
        try:
            Decimal(row["target_value"])
        except InvalidOperation:
            problems.append(f"{at('target_value')}: '{row['target_value']}' phải là một số (dấu chấm thập phân)")
        for column in ("target_nam_hoc", "phase"):
            if not _is_school_year(row[column]) and not (column == "phase" and SCHOOL_YEAR.fullmatch(row[column])):
                problems.append(f"{at(column)}: '{row[column]}' phải có dạng 2021-2025 (năm học hoặc giai đoạn)"
                                if column == "phase" else f"{at(column)}: '{row[column]}' phải là một năm học")
        if row["baseline_nam_hoc"] and not _is_school_year(row["baseline_nam_hoc"]):
            problems.append(f"{at('baseline_nam_hoc')}: '{row['baseline_nam_hoc']}' phải là một năm học hoặc để trống")
    return problems
