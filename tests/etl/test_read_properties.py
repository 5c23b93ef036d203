"""etl/read.py, property-based: valid submissions written with random mixes of the real-world deviations
read back to exactly the numbers they were made from, with no error."""

from __future__ import annotations

import random
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.layout import ColumnSpec, load_layout
from etl.read import read_workbook
from tests.etl.test_read import Book, F, thongtin_rows, write_xlsx

LAYOUT = load_layout()
SHEETS = [*(s.name for s in LAYOUT.school_sheets), "LopBoiDuong"]


def _thousands(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


@dataclass(frozen=True)
class Deviations:
    """Which real-world deviations a generated file carries (hypothesis shrinks these flags)."""

    title_rows: int
    key_row: bool
    stt_column: bool
    shuffled_columns: bool
    totals_row: bool
    notes_block: bool
    blank_rows: bool
    messy_labels: bool
    messy_numbers: bool
    messy_codes_and_enums: bool


def count_cell(rng: random.Random, n: int, messy: bool) -> Any:
    """A count as a district may write it: number, text, float, thousands separators, a decimal comma or
    point with nothing after it, empty for 0."""
    if not messy:
        return n
    forms: list[Any] = [n, str(n), float(n), f"{n}.0", f" {n} ", F(f"={n}+0", n), f"{n},0", f"{n},00", f"{n}."]
    if n >= 1000:
        forms += [_thousands(n, "."), _thousands(n, " "), _thousands(n, ".") + ",0"]
    if n == 0:
        forms += [None, "  "]
    return rng.choice(forms)


def label_cell(rng: random.Random, label: str, messy: bool) -> str:
    """A header label with the deviations: NFD, capitals, doubled spaces, a line break, an enumeration
    before it or a unit or column number in brackets after it."""
    if not messy:
        return label
    if rng.random() < 0.2:
        label = rng.choice(["1. ", "(2) ", "a) "]) + label
    if rng.random() < 0.2:
        label = label + rng.choice([" (người)", " (1)", "*"])
    if rng.random() < 0.3:
        label = label.upper()
    if rng.random() < 0.3:
        label = label.replace(" ", "  ", 1)
    if rng.random() < 0.3:
        label = label.replace(" ", "\n", 1)
    if rng.random() < 0.3:
        label = unicodedata.normalize("NFD", label)
    return label


def typed_cell(rng: random.Random, column: ColumnSpec, i: int, how: Deviations) -> tuple[Any, Any]:
    """(value the reader must return, cell as written) for row i of a column."""
    messy = how.messy_codes_and_enums
    if column.type == "int":
        value = rng.choice([0, rng.randint(0, 60), rng.randint(0, 20_000)])
        return value, count_cell(rng, value, how.messy_numbers)
    if column.type == "code":
        value = f"14118{i + 1:03d}"
        return value, rng.choice([value, int(value), f"'{value}"]) if messy else value
    if column.type == "enum":
        value = rng.choice(sorted(LAYOUT.enums[column.key]))
        return value, rng.choice([value, *LAYOUT.enums[column.key][value]]) if messy else value
    if column.type == "flag":
        value = rng.randint(0, 1)
        spellings = LAYOUT.flags[value] + ((None,) if value == 0 else ())
        return value, rng.choice(spellings) if messy else value
    if column.type == "decimal":
        tenths = rng.randint(0, 99_999)
        return tenths / 10, rng.choice([tenths / 10, f"{tenths // 10},{tenths % 10}"]) if messy else tenths / 10
    value = f"Lớp {i + 1}" if column.key == "ten_lop" else f"Trường Mầm non {i + 1}"
    return value, value


def table_sheet(rng: random.Random, sheet: str, n: int, how: Deviations) -> tuple[list[list[Any]], list[dict]]:
    spec = LAYOUT.sheets[sheet]
    order = list(spec.columns)
    if how.shuffled_columns:
        rng.shuffle(order)
    expected: list[dict[str, Any]] = []
    body: list[list[Any]] = []
    for i in range(n):
        pairs = [typed_cell(rng, column, i, how) for column in order]
        expected.append({column.key: value for column, (value, _) in zip(order, pairs, strict=True)})
        body.append([cell for _, cell in pairs])
        if how.blank_rows and rng.random() < 0.3:
            body.append([])
    header = [label_cell(rng, c.label_vi, how.messy_labels) for c in order]
    rows: list[list[Any]] = [[f"BIỂU {sheet.upper()}"] for _ in range(how.title_rows)]
    if how.title_rows:
        rows.append([])
    rows.append(header)
    if how.key_row:
        rows.append([c.key for c in order])
    rows += body
    if how.totals_row and sheet != "LopBoiDuong":
        totals: list[Any] = [None] * len(order)
        totals[[c.key for c in order].index("ten_truong")] = rng.choice(["Tổng cộng", "Cộng", "TỔNG SỐ"])
        for j, column in enumerate(order):
            if column.type == "int":
                totals[j] = sum(r[column.key] for r in expected)
        rows.append(totals)
    if how.notes_block:
        rows += [[], [None, "Người lập biểu", None, "Thủ trưởng đơn vị"], [None, "Ghi chú: số liệu đến 31/5."]]
    if how.stt_column:
        rows = [["STT", *r] if r is header else [None, *r] for r in rows]
    return rows, expected


@st.composite
def submission(draw: st.DrawFn) -> tuple[Book, dict[str, list[dict[str, Any]]], int]:
    how = Deviations(
        title_rows=draw(st.integers(0, 3)),
        **{name: draw(st.booleans()) for name in Deviations.__dataclass_fields__ if name != "title_rows"},
    )
    rng = random.Random(draw(st.integers(0, 2**32)))
    n = draw(st.integers(1, 6))
    book: Book = {}
    expected: dict[str, list[dict[str, Any]]] = {}
    for sheet in SHEETS:
        book[sheet], expected[sheet] = table_sheet(rng, sheet, n if sheet != "LopBoiDuong" else rng.randint(0, 3), how)
    population = rng.randint(0, 50_000)
    info_name = rng.choice(["ThongTin", "Thông tin", "THONG TIN"]) if how.messy_labels else "ThongTin"
    info = thongtin_rows(dan_so_0_2=count_cell(rng, population, how.messy_numbers))
    return {info_name: info} | book, expected, population


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(submission())
def test_deviations_read_back_to_the_original_numbers(case: tuple[Book, dict[str, Any], int]) -> None:
    book, expected, population = case
    with tempfile.TemporaryDirectory() as folder:
        wb = read_workbook(write_xlsx(Path(folder) / "case.xlsx", book))
    assert [f.message for f in wb.findings if f.severity != "info"] == []
    assert wb.header["dan_so_0_2"] == population
    for sheet, rows in expected.items():
        table = wb.tables[sheet]
        got = table[[c for c in table.columns if c != "_row"]].to_dict("records")
        want = [{k: row[k] for k in table.columns if k != "_row"} for row in rows]
        assert got == want, sheet
