"""etl/read.py: the template as district clerks edit it over the years, several edits at once.

Each workbook is built the way a clerk reshapes the template (titles and a shifted table, an STT column,
sections and their subtotals, a percentage computed beside a count, labels merged over sub-labels, a
signature block); each test asserts the exact numbers read, or the exact finding, and that nothing the
clerk wrote is silently dropped or counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from etl.normalize import loose_label, names_a_ratio
from etl.read import read_workbook
from tests.etl.test_read import LAYOUT, SAMPLES, F, col, errors, findings, read, valid_book

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


# ---------------------------------------------------------------- a shared sample, reshaped by its clerk

SAMPLE = SAMPLES / "quynh-nhai_2019-2020_CN.xlsx"
TITLES = [["UBND HUYỆN QUỲNH NHAI"], ["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"], [], ["BÁO CÁO SỐ LIỆU NĂM HỌC 2019-2020"],
          ["(Kèm theo Công văn số 123/PGDĐT ngày 01/6/2020)"]]
SIGNATURE = [[], [None, None, None, "Quỳnh Nhai, ngày 16 tháng 6 năm 2020"],
             [None, "Người lập biểu", None, "Thủ trưởng đơn vị"], [None, "(Ký, ghi rõ họ tên)"], [],
             [None, "Vì Thị Xuân", None, "Lò Văn Hải"]]


@dataclass
class _Sheet:
    """A sheet as the clerk left it: rows (the first column left empty: the table shifted right), merged ranges,
    rows hidden by a filter, and what the reader must say of each row."""

    rows: list[list[Any]] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)
    width: int = 0

    def add(self, *cells: Any) -> int:
        self.rows.append([None, *cells])
        return len(self.rows)  # the Excel row number


def _sums(values: list[dict[str, Any]], keys: list[str]) -> list[int]:
    return [sum(v[key] for v in values) for key in keys]


def _sections(sheet: _Sheet, values: list[dict[str, Any]], cells: Any) -> tuple[dict[int, str], int]:
    """The schools of a per-school sheet in sections, as district tables group them: `I. Công lập` in two clusters,
    each with its `Cộng cụm` row and the section's `Tổng công lập` under them, `II. Ngoài công lập` with its
    sums on its heading row, then `Tổng cộng`. Returns the rows that must be read as a group's sums (row ->
    label) and the row of the totals."""
    sums: dict[int, str] = {}
    first, second, rest = values[:4], values[4:9], values[9:]
    sheet.add("I", "Trường công lập")
    stt = 0
    for cluster, schools in (("Cụm 1", first), ("Cụm 2", second)):
        sheet.add(None, cluster)
        for v in schools:
            stt += 1
            sheet.add(stt, *cells(v, stt))
        sums[sheet.add(None, *cells(None, schools))] = f"Cộng {cluster.lower()}"
    sums[sheet.add(None, *cells(None, first + second))] = "Tổng công lập"
    sums[sheet.add("II", *cells(None, rest))] = "Ngoài công lập"
    for v in rest:
        stt += 1
        sheet.add(stt, *cells(v, stt))
    totals = sheet.add(None, *cells(None, values))
    return sums, totals


def _truong_lop(values: list[dict[str, Any]]) -> tuple[_Sheet, dict[int, str], int]:
    # columns reordered, a percentage by formula and the clerk's notes added; the table under five title rows
    keys = ["ma_truong", "ten_truong", "loai_hinh", "dat_chuan_qg", "tre_nha_tre", "so_nhom_tre", "tre_mau_giao",
            "so_lop_mau_giao", "tre_5_tuoi", "so_lop_5_tuoi"]
    counts = [k for k in keys if LAYOUT.sheets["TruongLop"].column(k).type == "int"]
    spec = LAYOUT.sheets["TruongLop"]
    sheet = _Sheet(rows=[[None, *t] for t in TITLES])
    sheet.add("STT", *(spec.column(k).label_vi for k in keys), "Tỷ lệ trẻ 5 tuổi (%)", "Ghi chú")

    def cells(v: dict[str, Any] | None, n: Any) -> list[Any]:
        r = len(sheet.rows) + 1
        rate = F(f"=IF(I{r}=0,0,K{r}/I{r}*100)", 0)
        if v is None:  # a row of sums (its label written in the name column by the test)
            return [None, None, None, None, *_sums(n, counts), rate]
        return [v[k] if k != "loai_hinh" else "Công lập" for k in keys] + [rate, "điểm lẻ xa" if n == 3 else None]

    sums, totals = _sections(sheet, values, cells)
    return sheet, sums, totals


def _doi_ngu(values: list[dict[str, Any]]) -> tuple[_Sheet, dict[int, str], int]:
    # a header over two rows: the qualifications under `Trình độ đào tạo CBQL` / `Trình độ GV` with their
    # abbreviations, `GV trong biên chế` over `SL | Tỷ lệ %`, every other label merged down both rows
    spec = LAYOUT.sheets["DoiNgu"]
    sheet = _Sheet(rows=[[None, *t] for t in TITLES])
    upper: list[Any] = ["STT"]
    lower: list[Any] = [None]
    keys: list[str] = []
    for column in spec.columns:
        c = len(upper) + 1  # the grid column (after the empty first one)
        if column.key.startswith(("cbql_td_", "gv_td_")):
            group = "Trình độ CBQL" if column.key.startswith("cbql") else "Trình độ GV"
            first = column.key.endswith("duoi_trung_cap")
            upper.append(group if first else None)
            if first:
                sheet.merges.append((6 - 1, c, 6 - 1, c + 4, group))
            lower.append({"duoi_trung_cap": "Dưới TC", "trung_cap": "TC", "cao_dang": "CĐ", "dai_hoc": "ĐH",
                          "sau_dai_hoc": "Trên ĐH"}[column.key.split("_td_")[1]])
        elif column.key == "gv_bien_che":
            sheet.merges.append((5, c, 5, c + 1, column.label_vi))
            upper += [column.label_vi, None]
            lower += ["SL", "Tỷ lệ %"]
            keys.append(column.key)
            keys.append("%")
            continue
        else:
            sheet.merges.append((5, c, 6, c, column.label_vi))
            upper.append(column.label_vi)
            lower.append(None)
        keys.append(column.key)
    sheet.merges.append((5, 1, 6, 1, "STT"))
    sheet.add(*upper)
    sheet.add(*lower)
    counts = [k for k in keys if k != "%" and spec.column(k).type == "int"]

    def cells(v: dict[str, Any] | None, n: Any) -> list[Any]:
        if v is None:
            total = dict(zip(counts, _sums(n, counts), strict=True))
            row = [total.get(k) for k in keys]
        else:
            row = [v[k] if k != "%" else None for k in keys]
            total = v
        row[keys.index("%")] = round(100 * total["gv_bien_che"] / total["gv_tong"], 1) if total["gv_tong"] else 0
        return row

    sums, totals = _sections(sheet, values, cells)
    return sheet, sums, totals


def _write_reshaped(path: Path, sheets: dict[str, _Sheet | list[list[Any]]]) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    for name, sheet in sheets.items():
        ws = wb.add_worksheet(name)
        rows = sheet.rows if isinstance(sheet, _Sheet) else sheet
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if isinstance(cell, F):
                    ws.write_formula(r, c, cell.formula, None, cell.cached)
                elif cell is not None:
                    ws.write(r, c, cell)
        if isinstance(sheet, _Sheet):
            ws.freeze_panes(7, 4)
            ws.autofilter(5, 1, len(rows) - 1, max(len(row) for row in rows) - 1)
            for r in sheet.hidden:
                ws.set_row(r - 1, None, None, {"hidden": True})
            for r1, c1, r2, c2, text in sheet.merges:
                ws.merge_range(r1, c1, r2, c2, text)
    wb.close()
    return path


def test_a_sample_reshaped_by_its_clerk_reads_the_same_schools_and_says_what_it_left(tmp_path: Path) -> None:
    original = read_workbook(SAMPLE)
    source = openpyxl.load_workbook(SAMPLE)
    sheets: dict[str, _Sheet | list[list[Any]]] = {
        ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in source}
    shaped: dict[str, tuple[_Sheet, dict[int, str], int]] = {}
    for name, build in (("TruongLop", _truong_lop), ("DoiNgu", _doi_ngu)):
        values = original.tables[name].drop(columns="_row").to_dict("records")
        sheet, sums, totals = build(values)
        for r, label in [*sums.items(), (totals, "Tổng cộng")]:
            sheet.rows[r - 1][3] = label  # in the name column (after the empty column, STT and the code)
        sheet.rows += [[None, *row] for row in SIGNATURE]
        sheet.hidden = [9]  # a school hidden by the filter left on
        sheets[name] = sheet
        shaped[name] = (sheet, sums, totals)
    wb = read_workbook(_write_reshaped(tmp_path / "reshaped.xlsx", sheets))

    assert [f for f in wb.findings if f.severity != "info"] == []
    for name, (_, sums, totals) in shaped.items():
        read_values = wb.tables[name].drop(columns="_row").to_dict("records")
        assert read_values == original.tables[name].drop(columns="_row").to_dict("records"), name
        assert wb.totals[name] == {"row": totals, "values": original.totals[name]["values"]}
        group_rows = [(f.row_number, f.value) for f in wb.findings
                      if f.sheet == name and f.rule == "ignored_row" and "dòng cộng" in f.message]
        # the heading row `II | Ngoài công lập` is named by its first text
        assert group_rows == sorted((r, "II" if label == "Ngoài công lập" else label) for r, label in sums.items())
    ignored = {(f.sheet, f.value) for f in wb.findings if f.rule == "ignored_column"}
    assert {("TruongLop", "STT"), ("TruongLop", "Tỷ lệ trẻ 5 tuổi (%)"), ("TruongLop", "Ghi chú"),
            ("DoiNgu", "STT"), ("DoiNgu", "Tỷ lệ %")} <= ignored


# ---------------------------------------------------------------- sections and their sums


def _sums_row(sheet: str, values: list[dict[str, Any]], label: str, *, off_by: int = 0) -> list[Any]:
    spec = LAYOUT.sheets[sheet]
    row: list[Any] = [None] * len(spec.columns)
    row[col(sheet, "ten_truong")] = label
    for key in spec.count_keys:
        row[col(sheet, key)] = sum(v[key] for v in values)
    row[col(sheet, spec.count_keys[-1])] += off_by
    return row


def _sectioned(sheet: str, n: int, labels: tuple[str, str, str], *, off_by: int = 0,
               grand_on_top: bool = False) -> tuple[dict[str, list[list[Any]]], list[dict[str, Any]]]:
    """Schools 1-2 and 3-n in two sections, each with its sums row (`labels[0]`, `labels[1]`), and the sheet's
    totals row (`labels[2]`) under them or right under the header."""
    book, expected = valid_book(n)
    values = expected[sheet]
    header, *rows = book[sheet]
    grand = _sums_row(sheet, values, labels[2])
    book[sheet] = [header, *([grand] if grand_on_top else []), *rows[:2],
                   _sums_row(sheet, values[:2], labels[0], off_by=off_by), *rows[2:],
                   _sums_row(sheet, values[2:], labels[1]), *([] if grand_on_top else [grand])]
    return book, values


@pytest.mark.parametrize("labels", [("Cộng", "Cộng", "Tổng cộng"), ("Cộng cụm 1", "Cộng cụm 2", "Tổng cộng"),
                                    ("Tổng công lập", "Tổng ngoài công lập", "Toàn huyện")])
def test_a_sections_sums_are_told_apart_from_the_sheets_totals(tmp_path: Path, labels: tuple[str, str, str]) -> None:
    # before: `Cộng cụm 1` was an unlabelled row (the file rejected); a section's `Cộng` was taken for the
    # sheet's totals row, with a false `totals_row_mismatch` per column and the real totals row left unchecked
    book, values = _sectioned("TruongLop", 4, labels)
    wb = read(tmp_path, book)
    assert [f for f in wb.findings if f.severity != "info"] == []
    assert wb.tables["TruongLop"]["_row"].tolist() == [2, 3, 5, 6]
    assert wb.tables["TruongLop"].drop(columns="_row").to_dict("records") == values
    assert wb.totals["TruongLop"]["row"] == 8
    assert findings(wb, "ignored_row") == [("info", "TruongLop", 4, None, labels[0]),
                                           ("info", "TruongLop", 7, None, labels[1])]
    assert "các dòng 2–3" in next(f.message for f in wb.findings if f.row_number == 4)


def test_the_sheets_totals_row_over_the_sections_is_the_totals_row(tmp_path: Path) -> None:
    book, values = _sectioned("DoiNgu", 5, ("Cộng", "Cộng", "Tổng cộng"), grand_on_top=True)
    wb = read(tmp_path, book)
    assert [f for f in wb.findings if f.severity != "info"] == []
    assert wb.totals["DoiNgu"]["row"] == 2
    assert wb.tables["DoiNgu"]["gv_tong"].tolist() == [v["gv_tong"] for v in values]
    assert [r for _, _, r, _, _ in findings(wb, "ignored_row")] == [5, 9]


def test_a_sections_sums_that_are_no_schools_sums_are_an_error_never_dropped(tmp_path: Path) -> None:
    book, _ = _sectioned("TruongLop", 4, ("Cộng cụm 1", "Cộng cụm 2", "Tổng cộng"), off_by=1)
    wb = read(tmp_path, book)
    assert findings(wb, "unlabelled_row") == [("error", "TruongLop", 4, "ma_truong", None)]
    assert "Cộng cụm 1" in next(f.message for f in wb.findings if f.rule == "unlabelled_row")


def test_a_totals_row_too_many_that_sums_no_schools_is_a_warning(tmp_path: Path) -> None:
    book, values = _sectioned("TruongLop", 4, ("Cộng", "Cộng", "Tổng cộng"), off_by=1)
    wb = read(tmp_path, book)
    assert findings(wb, "ignored_row") == [("warning", "TruongLop", 4, None, "Cộng"),
                                           ("info", "TruongLop", 7, None, "Cộng")]
    assert findings(wb, "totals_row_mismatch") == [] and wb.totals["TruongLop"]["row"] == 8
    assert len(wb.tables["TruongLop"]) == 4


def test_a_school_without_its_code_is_never_taken_for_the_sums_of_the_school_above(tmp_path: Path) -> None:
    # the same numbers as the school above, but no totals word: one school's row is no group's sums
    book, values = valid_book(3)
    copy = list(book["BoiDuong"][2])
    copy[col("BoiDuong", "ma_truong")] = None
    copy[col("BoiDuong", "ten_truong")] = "Trường Mầm non Hoa Ban"
    book["BoiDuong"].insert(3, copy)
    wb = read(tmp_path, book)
    assert findings(wb, "unlabelled_row") == [("error", "BoiDuong", 4, "ma_truong", None)]
    assert len(wb.tables["BoiDuong"]) == 3
