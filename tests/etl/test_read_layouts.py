"""etl/read.py: the template as district clerks edit it over the years, several edits at once.

Each workbook is built the way a clerk reshapes the template (titles and a shifted table, an STT column,
sections and their subtotals, a percentage computed beside a count, labels merged over sub-labels, a
signature block); each test asserts the exact numbers read, or the exact finding, and that nothing the
clerk wrote is silently dropped or counted twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from etl.normalize import loose_label, names_a_ratio
from tests.etl.test_read import LAYOUT, F, col, errors, findings, read, valid_book

Merge = tuple[int, int, int, int, str]


def _merged_header(sheet: str, values: list[dict[str, Any]], split: dict[str, tuple[list[str], list[Any]]],
                   groups: dict[str, str] | None = None) -> tuple[list[list[Any]], list[Merge]]:
    """A sheet's rows with a header over two rows: every label merged down both rows, but the keys of `split`,
    whose label is merged across its sub-labels (`split[key] = (sub-labels, cells of each row from the value)`)
    and the keys of `groups`, whose label is the lower cell under a group label merged across them."""
    spec = LAYOUT.sheets[sheet]
    upper: list[Any] = []
    lower: list[Any] = []
    rows: list[list[Any]] = [[] for _ in values]
    merges: list[Merge] = []
    groups = groups or {}
    group_start: dict[str, int] = {}
    for column in spec.columns:
        c = len(upper)
        if column.key in split:
            subs, cells = split[column.key]
            merges.append((0, c, 0, c + len(subs) - 1, column.label_vi))
            upper += [column.label_vi, *[None] * (len(subs) - 1)]
            lower += subs
            for row, value in zip(rows, values, strict=True):
                row += [cell(value) if callable(cell) else cell for cell in cells]
            continue
        if column.key in groups:
            group = groups[column.key]
            if group not in group_start:
                group_start[group] = c
                upper.append(group)
            else:
                upper.append(None)
            lower.append(column.label_vi.split(": ", 1)[-1])
        else:
            merges.append((0, c, 1, c, column.label_vi))
            upper.append(column.label_vi)
            lower.append(None)
        for row, value in zip(rows, values, strict=True):
            row.append(value[column.key])
    for group, start in group_start.items():
        width = sum(1 for g in groups.values() if g == group)
        merges.append((0, start, 0, start + width - 1, group))
    return [upper, lower, *rows], merges


# ---------------------------------------------------------------- a ratio beside a count


def test_a_percentage_under_the_label_merged_over_a_count_is_not_read_as_the_count(tmp_path: Path) -> None:
    # `GV trong biên chế` merged over `Số lượng | %`, the qualification under `Trình độ GV`: the header is two
    # rows. `GV trong biên chế %` matched the column once the sign was dropped, so the percentages were read
    # as the count of payroll teachers, and the count itself reported as an extra column.
    book, expected = valid_book(3)
    values = expected["DoiNgu"]
    qualification = {c.key: "Trình độ GV" for c in LAYOUT.sheets["DoiNgu"].columns if c.key.startswith("gv_td_")}
    percent = [round(100 * v["gv_bien_che"] / max(1, v["gv_tong"])) for v in values]
    book["DoiNgu"], merges = _merged_header(
        "DoiNgu", values, {"gv_bien_che": (["Số lượng", "%"], [lambda v: v["gv_bien_che"], None])}, qualification)
    for row, p in zip(book["DoiNgu"][2:], percent, strict=True):
        row[col("DoiNgu", "gv_bien_che") + 1] = p
    wb = read(tmp_path, book, merges={"DoiNgu": merges})
    assert errors(wb) == []
    assert wb.tables["DoiNgu"]["gv_bien_che"].tolist() == [v["gv_bien_che"] for v in values]
    assert wb.tables["DoiNgu"]["gv_td_dai_hoc"].tolist() == [v["gv_td_dai_hoc"] for v in values]
    assert wb.tables["DoiNgu"]["_row"].tolist() == [3, 4, 5]
    assert findings(wb, "ignored_column") == [("info", "DoiNgu", 1, None, "%")]


def test_a_percentage_first_under_a_label_merged_over_it_and_the_count_gives_way_to_the_count(
    tmp_path: Path,
) -> None:
    # The label row alone names every column, so the merged label's first cell (the percentages) named
    # `tre_mau_giao`, and the sub-labels under it were dropped as a note.
    book, expected = valid_book(3)
    values = expected["TruongLop"]
    book["TruongLop"], merges = _merged_header(
        "TruongLop", values, {"tre_mau_giao": (["Tỷ lệ %", "SL"], [95, lambda v: v["tre_mau_giao"]])})
    wb = read(tmp_path, book, merges={"TruongLop": merges})
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["tre_mau_giao"].tolist() == [v["tre_mau_giao"] for v in values]
    assert wb.tables["TruongLop"]["_row"].tolist() == [3, 4, 5]
    assert findings(wb, "ignored_column") == [("info", "TruongLop", 1, None, "Số trẻ mẫu giáo / Tỷ lệ %")]


@pytest.mark.parametrize("label", ["Trong đó: trẻ 5 tuổi (%)", "Trẻ 5 tuổi (tỷ lệ %)", "Trong đó: trẻ 5 tuổi - tỉ lệ",
                                   "% trẻ 5 tuổi"])
def test_a_percentage_column_labelled_after_a_count_is_an_extra_column(tmp_path: Path, label: str) -> None:
    # Beside the count, it was a second `tre_5_tuoi` (duplicate_column, the file rejected); in its place, the
    # percentages were the count.
    book, expected = valid_book(2)
    c = col("TruongLop", "tre_5_tuoi")
    for i, row in enumerate(book["TruongLop"]):
        row.insert(c + 1, label if i == 0 else F(f"=J{i + 1}/I{i + 1}*100", 40))
    wb = read(tmp_path, book)
    assert errors(wb) == []
    assert wb.tables["TruongLop"]["tre_5_tuoi"].tolist() == [v["tre_5_tuoi"] for v in expected["TruongLop"]]
    assert findings(wb, "ignored_column") == [("info", "TruongLop", 1, None, label)]


def test_a_percentage_in_place_of_the_count_is_a_missing_column_not_the_count(tmp_path: Path) -> None:
    book, _ = valid_book(2)
    book["TruongLop"][0][col("TruongLop", "tre_5_tuoi")] = "Trẻ 5 tuổi (%)"
    wb = read(tmp_path, book)
    assert findings(wb, "missing_column") == [("error", "TruongLop", None, "tre_5_tuoi", None)]
    assert "tre_5_tuoi" not in wb.tables["TruongLop"].columns


def test_no_template_label_names_a_ratio() -> None:
    # the ratio marks must never turn a template's own label (or alias) into an extra column
    marks = [loose_label(m) for m in LAYOUT.ratio_marks]
    assert marks
    for sheet in LAYOUT.sheets.values():
        for column in sheet.columns:
            for text in (column.key, *column.labels):
                assert not names_a_ratio(loose_label(text), marks), (sheet.name, text)
