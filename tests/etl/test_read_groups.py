"""etl/read.py: headers written over two or three rows, a group label merged over the sub-labels under it.

District tables group their columns (`CBQL` over `Tổng số | Biên chế | Đảng viên`, `Giáo viên` › `Trình độ` ›
`ĐH`), so that a sub-label alone (`Tổng số`, `ĐH`) says nothing and only the group and the sub-label together
name a template column. Each workbook is built with xlsxwriter and its merged ranges; each test asserts the
value read for every column, or the exact findings where the header does not say which column it is.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from etl.layout import load_layout
from etl.read import _matcher, forget_memos, read_workbook
from tests.etl.test_read import LAYOUT, errors, findings, read, valid_book

# A header as a tree: a leaf is (its label, its template key or None for a column of the district's own), a
# group is (its label, [the columns under it]).
Node = tuple[str, "str | None | list[Node]"]
Merge = tuple[int, int, int, int, str]


def _depth(nodes: list[Node]) -> int:
    return max(1 + (_depth(under) if isinstance(under, list) else 0) for _, under in nodes)


def _leaves(nodes: list[Node]) -> list[str | None]:
    return [key for _, under in nodes for key in (_leaves(under) if isinstance(under, list) else [under])]


def grouped(nodes: list[Node], values: list[dict[str, Any]], extra: Any = 7) -> tuple[list[list[Any]], list[Merge]]:
    """The rows of a sheet whose header is `nodes` (each group merged across its columns, each leaf merged down
    to the last header row), then one row per school of `values` (`extra` in the district's own columns)."""
    depth = _depth(nodes)
    keys = _leaves(nodes)
    header: list[list[Any]] = [[None] * len(keys) for _ in range(depth)]
    merges: list[Merge] = []

    def place(level: int, start: int, nodes: list[Node]) -> None:
        c = start
        for label, under in nodes:
            header[level][c] = label
            if isinstance(under, list):
                width = len(_leaves(under))
                if width > 1:
                    merges.append((level, c, level, c + width - 1, label))
                place(level + 1, c, under)
                c += width
            else:
                if level < depth - 1:
                    merges.append((level, c, depth - 1, c, label))
                c += 1

    place(0, 0, nodes)
    rows = [[v[key] if key is not None else extra for key in keys] for v in values]
    return [*header, *rows], merges


def assert_read(wb: Any, sheet: str, values: list[dict[str, Any]], first_row: int) -> None:
    """Every template column of the sheet read to the values written, schools from Excel row `first_row`."""
    table = wb.tables[sheet]
    for column in LAYOUT.sheets[sheet].columns:
        assert table[column.key].tolist() == [v[column.key] for v in values], column.key
    assert table["_row"].tolist() == list(range(first_row, first_row + len(values)))


QUALIFICATIONS = [("Dưới TC", "duoi_trung_cap"), ("TC", "trung_cap"), ("CĐ", "cao_dang"), ("ĐH", "dai_hoc"),
                  ("Trên ĐH", "sau_dai_hoc")]


def qualifications(staff: str) -> list[Node]:
    return [(label, f"{staff}_td_{key}") for label, key in QUALIFICATIONS]


DOI_NGU_TWO_ROWS: list[Node] = [
    ("Mã trường", "ma_truong"),
    ("Tên trường", "ten_truong"),
    ("CBQL", [("Tổng số", "cbql_tong"), ("Biên chế", "cbql_bien_che"), ("Đảng viên", "cbql_dang_vien")]),
    ("Trình độ đào tạo CBQL", qualifications("cbql")),
    ("Giáo viên", [("Tổng số", "gv_tong"), ("BC", "gv_bien_che")]),
    ("Trình độ đào tạo GV", qualifications("gv")),
    ("Hạng chức danh nghề nghiệp GV", [("Hạng I", "gv_hang_1"), ("Hạng II", "gv_hang_2"), ("Hạng III", "gv_hang_3"),
                                       ("Hạng IV", "gv_hang_4"), ("Chưa xếp hạng", "gv_chua_xep_hang")]),
    ("Tổng số nhân viên", "nv_tong"),
    ("GV nghỉ hưu trong năm", "gv_nghi_huu"),
    ("GV tuyển mới trong năm", "gv_tuyen_moi"),
]


def test_a_group_label_over_two_rows_names_the_columns_with_its_sub_labels(tmp_path: Path) -> None:
    # `Tổng số` is CBQL's, GV's and NV's: only the group merged above says whose. Before, every sub-label was
    # `missing_column` (18 errors): the file was rejected although every number was there.
    book, expected = valid_book(3)
    values = expected["DoiNgu"]
    book["DoiNgu"], merges = grouped(DOI_NGU_TWO_ROWS, values)
    wb = read(tmp_path, book, merges={"DoiNgu": merges})
    assert errors(wb) == []
    assert_read(wb, "DoiNgu", values, first_row=3)
    assert wb.header_rows["DoiNgu"] == 1
    assert [f for f in wb.findings if f.sheet == "DoiNgu"] == []


def test_a_header_over_three_rows_names_the_columns_with_both_groups(tmp_path: Path) -> None:
    # `Giáo viên` › `Trình độ` › `ĐH`: the middle group alone is CBQL's and GV's, the top one says whose.
    book, expected = valid_book(3)
    values = expected["DoiNgu"]
    nodes: list[Node] = [
        ("Mã trường", "ma_truong"),
        ("Tên trường", "ten_truong"),
        ("Cán bộ quản lý", [("Tổng số", "cbql_tong"), ("Trong biên chế", "cbql_bien_che"),
                            ("Là đảng viên", "cbql_dang_vien"), ("Trình độ đào tạo", qualifications("cbql"))]),
        ("Giáo viên", [("Tổng số", "gv_tong"), ("Biên chế", "gv_bien_che"),
                       ("Trình độ", qualifications("gv")),
                       ("Hạng CDNN", [("Hạng I", "gv_hang_1"), ("Hạng II", "gv_hang_2"), ("Hạng III", "gv_hang_3"),
                                      ("Hạng IV", "gv_hang_4"), ("Chưa xếp hạng", "gv_chua_xep_hang")]),
                       ("Nghỉ hưu trong năm", "gv_nghi_huu"), ("Tuyển mới trong năm", "gv_tuyen_moi")]),
        ("Nhân viên", [("Tổng số", "nv_tong")]),
    ]
    book["DoiNgu"], merges = grouped(nodes, values)
    book["DoiNgu"] = [["BIỂU 2. ĐỘI NGŨ CBQL, GIÁO VIÊN, NHÂN VIÊN"], [], *book["DoiNgu"]]
    merges = [(r + 2, c1, r2 + 2, c2, text) for r, c1, r2, c2, text in merges]
    wb = read(tmp_path, book, merges={"DoiNgu": [(0, 0, 0, 10, "BIỂU 2. ĐỘI NGŨ CBQL, GIÁO VIÊN, NHÂN VIÊN"), *merges]})
    assert errors(wb) == []
    assert_read(wb, "DoiNgu", values, first_row=6)
    assert wb.header_rows["DoiNgu"] == 3
    assert [f for f in wb.findings if f.sheet == "DoiNgu"] == []


LEVELS = [("Tốt", "tot"), ("Khá", "kha"), ("Đạt", "dat"), ("Chưa đạt", "chua_dat")]
RATINGS: list[Node] = [
    ("Mã trường", "ma_truong"),
    ("Tên trường", "ten_truong"),
    ("Đánh giá chuẩn nghề nghiệp GV", [("Số GV được đánh giá", "gv_duoc_danh_gia"),
                                       *[(label, f"gv_{key}") for label, key in LEVELS]]),
    ("Đánh giá chuẩn CBQL", [("Số được đánh giá", "cbql_duoc_danh_gia"),
                             *[(label, f"cbql_{key}") for label, key in LEVELS]]),
]


def test_ratings_under_the_standard_they_rate_are_read(tmp_path: Path) -> None:
    book, expected = valid_book(3)
    values = expected["DanhGiaChuan"]
    book["DanhGiaChuan"], merges = grouped(RATINGS, values)
    wb = read(tmp_path, book, merges={"DanhGiaChuan": merges})
    assert errors(wb) == []
    assert_read(wb, "DanhGiaChuan", values, first_row=3)


def test_children_and_classes_under_their_groups_are_read(tmp_path: Path) -> None:
    book, expected = valid_book(3)
    values = expected["TruongLop"]
    nodes: list[Node] = [
        ("Mã trường", "ma_truong"), ("Tên trường", "ten_truong"), ("Loại hình", "loai_hinh"),
        ("Đạt chuẩn quốc gia", "dat_chuan_qg"), ("Số nhóm trẻ", "so_nhom_tre"),
        ("Số lớp", [("Mẫu giáo", "so_lop_mau_giao"), ("Trong đó: 5 tuổi", "so_lop_5_tuoi")]),
        ("Số trẻ", [("Nhà trẻ", "tre_nha_tre"), ("Mẫu giáo", "tre_mau_giao"), ("Trong đó: 5 tuổi", "tre_5_tuoi")]),
    ]
    book["TruongLop"], merges = grouped(nodes, values)
    wb = read(tmp_path, book, merges={"TruongLop": merges})
    assert errors(wb) == []
    assert_read(wb, "TruongLop", values, first_row=3)


def test_a_csv_export_of_a_grouped_header_is_read_as_the_workbook(tmp_path: Path) -> None:
    # A CSV keeps a merged label in its first cell only, as the workbook's XML does.
    book, expected = valid_book(2)
    values = expected["DoiNgu"]
    book["DoiNgu"], _ = grouped(DOI_NGU_TWO_ROWS, values)
    path = tmp_path / "book.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for sheet, rows in book.items():
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerows(
                [["" if cell is None else str(cell) for cell in row] for row in rows])
            archive.writestr(f"{sheet}.csv", out.getvalue().encode())
    wb = read_workbook(path)
    assert errors(wb) == []
    assert_read(wb, "DoiNgu", values, first_row=3)


def test_a_group_narrowing_its_columns_names_none_of_them(tmp_path: Path) -> None:
    # `Hợp đồng` › `Tổng số` are the contract staff, not `Tổng số giáo viên`; `Giáo viên` › `Nữ` is the women.
    # Neither is read as a template column: the district's own columns, reported as info.
    book, expected = valid_book(2)
    values = expected["DoiNgu"]
    nodes: list[Node] = [*DOI_NGU_TWO_ROWS[:4],
                         ("Giáo viên", [("Tổng số", "gv_tong"), ("Biên chế", "gv_bien_che"), ("Nữ", None)]),
                         ("Hợp đồng", [("Tổng số", None), ("Đảng viên", None)]),
                         *DOI_NGU_TWO_ROWS[5:]]
    book["DoiNgu"], merges = grouped(nodes, values, extra=99)
    wb = read(tmp_path, book, merges={"DoiNgu": merges})
    assert errors(wb) == []
    assert_read(wb, "DoiNgu", values, first_row=3)
    assert findings(wb, "ignored_column") == [("info", "DoiNgu", 1, None, "Nữ"),
                                              ("info", "DoiNgu", 1, None, "Hợp đồng / Tổng số"),
                                              ("info", "DoiNgu", 1, None, "Đảng viên")]


def test_a_group_that_does_not_say_whose_is_reported_not_guessed(tmp_path: Path) -> None:
    # `Trình độ` over `Dưới TC | ... | Trên ĐH` beside CBQL's own qualification columns: the sub-labels are CBQL's
    # and GV's alike. Each column is reported with the two it could be, and not read.
    book, expected = valid_book(2)
    values = expected["DoiNgu"]
    nodes: list[Node] = [*DOI_NGU_TWO_ROWS[:3],
                         *[(f"Trình độ CBQL: {label}", key) for label, key in qualifications("cbql")],
                         DOI_NGU_TWO_ROWS[4], ("Trình độ", qualifications("gv")), *DOI_NGU_TWO_ROWS[6:]]
    book["DoiNgu"], merges = grouped(nodes, values)
    wb = read(tmp_path, book, merges={"DoiNgu": merges})
    found = findings(wb, "ambiguous_column")
    assert found == [("error", "DoiNgu", 1, f"gv_td_{key}", f"Trình độ / {label}") for label, key in QUALIFICATIONS]
    assert findings(wb, "missing_column") == [("error", "DoiNgu", None, f"gv_td_{key}", None)
                                              for _, key in QUALIFICATIONS]
    message = next(f.message for f in wb.findings if f.rule == "ambiguous_column")
    assert message == ("Cột M 'Trình độ / Dưới TC' của trang tính 'DoiNgu' không rõ là cột nào của mẫu: có thể là "
                       "'Trình độ CBQL: dưới TC' hoặc 'Trình độ GV: dưới TC'; cột này chưa được đọc. Hãy sửa tên "
                       "cột (và tên nhóm cột gộp phía trên) cho đúng như trong mẫu.")
    assert "gv_td_dai_hoc" not in wb.tables["DoiNgu"].columns or wb.tables["DoiNgu"]["gv_td_dai_hoc"].isna().all()
    for key in ("cbql_td_dai_hoc", "gv_tong", "gv_bien_che", "gv_hang_1"):
        assert wb.tables["DoiNgu"][key].tolist() == [v[key] for v in values], key


def test_an_extra_column_that_could_be_two_read_elsewhere_is_info(tmp_path: Path) -> None:
    # Every template column is read from its own column; an extra `Xếp loại` › `Tốt` beside them (a sum of GV and
    # CBQL) could be either: said, as info, and the file is accepted.
    book, expected = valid_book(2)
    values = expected["DanhGiaChuan"]
    nodes: list[Node] = [*RATINGS, ("Xếp loại", [("Tốt", None), ("Khá", None)])]
    book["DanhGiaChuan"], merges = grouped(nodes, values)
    wb = read(tmp_path, book, merges={"DanhGiaChuan": merges})
    assert errors(wb) == []
    assert_read(wb, "DanhGiaChuan", values, first_row=3)
    assert findings(wb, "ambiguous_column") == [("info", "DanhGiaChuan", 1, None, "Xếp loại / Tốt"),
                                                ("info", "DanhGiaChuan", 1, None, "Xếp loại / Khá")]


def test_a_sub_label_naming_another_column_than_its_group_with_it_is_reported(tmp_path: Path) -> None:
    # `Nguồn` › `Kinh phí`: the two together are `Nguồn kinh phí`, the sub-label alone is the amount. Which one the
    # column holds is not written: reported with both, not read as either.
    book, expected = valid_book(2)
    values = expected["LopBoiDuong"]
    nodes: list[Node] = [("Tên lớp", "ten_lop"), ("Hình thức", "hinh_thuc"), ("Số học viên", "so_hoc_vien"),
                         ("Số hoàn thành", "so_hoan_thanh"), ("Kinh phí (triệu đồng)", "kinh_phi"),
                         ("Nguồn", [("Kinh phí", "nguon_kinh_phi"), ("Ghi chú", None)])]
    book["LopBoiDuong"], merges = grouped(nodes, values, extra="")
    wb = read(tmp_path, book, merges={"LopBoiDuong": merges})
    assert findings(wb, "ambiguous_column") == [("error", "LopBoiDuong", 1, "nguon_kinh_phi", "Nguồn / Kinh phí")]
    message = next(f.message for f in wb.findings if f.rule == "ambiguous_column")
    assert "có thể là 'Kinh phí (triệu đồng)' hoặc 'Nguồn kinh phí'" in message
    assert findings(wb, "duplicate_column") == []
    assert wb.tables["LopBoiDuong"]["kinh_phi"].tolist() == [v["kinh_phi"] for v in values]


@pytest.mark.parametrize("sheet", ["DoiNgu", "DanhGiaChuan", "BoiDuong", "TruongLop", "LopBoiDuong"])
def test_no_two_template_columns_say_the_same_terms(sheet: str) -> None:
    # A set of terms two columns share names neither (it would be a guess): none does in the template, so every
    # column can be named by a grouped header.
    clashes = {terms: keys for terms, keys in _matcher(load_layout().sheets[sheet]).term_sets.items() if len(keys) > 1}
    assert clashes == {}


def test_a_one_row_header_never_reads_the_header_terms(tmp_path: Path) -> None:
    # The common case pays nothing: the terms are made only when the labels in one row do not name every column.
    forget_memos()
    book, expected = valid_book(3)
    wb = read(tmp_path, book)
    assert errors(wb) == []
    for spec in LAYOUT.table_sheets:
        matcher = _matcher(spec)
        assert "term_sets" not in vars(matcher) and "_vocabulary" not in vars(matcher), spec.name


def test_a_part_of_the_total_above_it_is_read_as_that_part(tmp_path: Path) -> None:
    # `Tổng số giáo viên` over `Tổng số | Trong đó: biên chế`: the second column is the teachers on the payroll, not
    # a second total (and not a column of the district's own, which left `gv_bien_che` missing).
    book, expected = valid_book(3)
    values = expected["DoiNgu"]
    nodes: list[Node] = [*DOI_NGU_TWO_ROWS[:2],
                         ("Tổng số CBQL", [("Tổng số", "cbql_tong"), ("Trong đó: biên chế", "cbql_bien_che"),
                                           ("Trong đó: đảng viên", "cbql_dang_vien")]),
                         DOI_NGU_TWO_ROWS[3],
                         ("Tổng số giáo viên", [("Tổng số", "gv_tong"), ("Trong đó biên chế", "gv_bien_che"),
                                                ("Trong đó nữ", None)]),
                         *DOI_NGU_TWO_ROWS[5:]]
    book["DoiNgu"], merges = grouped(nodes, values)
    wb = read(tmp_path, book, merges={"DoiNgu": merges})
    assert errors(wb) == []
    assert_read(wb, "DoiNgu", values, first_row=3)
    assert findings(wb, "ignored_column") == [("info", "DoiNgu", 1, None, "Trong đó nữ")]
