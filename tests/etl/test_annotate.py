"""The annotated copy of a district workbook: highlighted cells, comments, the "Lỗi cần sửa" sheet."""

import unicodedata
import zipfile

import openpyxl
import pytest

from etl.annotate import (
    AUTHOR,
    ERROR_COLOR,
    ERRORS_SHEET,
    WARNING_COLOR,
    Place,
    annotate,
    annotate_workbook,
    canonical_sheet,
    column_label,
    locate_column,
)


def district_workbook(path):
    """A small DA33-MN-v1-like workbook: ThongTin key/value, DoiNgu with title rows and a shuffled,
    NFD-labelled header (so the column must be found by its header, not by its template position)."""
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "Thông tin"
    for row in (("Phiên bản biểu mẫu", "DA33-MN-v1"), ("Mã đơn vị", "118"), ("Năm học", "2019-2020"),
                ("Kỳ báo cáo", "CN")):
        info.append(row)
    staff = wb.create_sheet("Đội ngũ")
    staff.merge_cells("A1:E1")
    staff["A1"] = "BIỂU ĐỘI NGŨ CBQL, GIÁO VIÊN"
    staff["A2"] = "Phòng GD&ĐT huyện Quỳnh Nhai"
    # header on row 4: STT, Mã trường, Tổng số  giáo viên (NFD, double space, capitals), GV trong biên chế
    staff.append([])
    staff.append(["STT", "Mã trường", unicodedata.normalize("NFD", "TỔNG SỐ  giáo\nviên"), "GV trong biên chế",
                  "Tổng số CBQL"])
    staff.append(["", "ma_truong", "gv_tong", "gv_bien_che", "cbql_tong"])
    staff.append([1, "14118001", 20, 25, 3])
    staff.append([2, "14118002", 12, 10, 2])
    staff["D6"].comment = openpyxl.comments.Comment("số liệu tạm tính", "Phòng GD")
    wb.save(path)
    return path


FINDINGS = [
    {"severity": "error", "rule": "exceeds_total", "sheet": "Đội ngũ", "row_number": 6,
     "column_key": "gv_bien_che", "value": "25",
     "message": "GV trong biên chế (25) lớn hơn Tổng số giáo viên (20)"},
    {"severity": "warning", "rule": "teacher_ratio", "sheet": "Đội ngũ", "row_number": 7,
     "column_key": "gv_tong", "value": "12", "message": "Số giáo viên bình quân một lớp là 6,0"},
    {"severity": "error", "rule": "wrong_period", "sheet": "Thông tin", "row_number": 3,
     "column_key": "nam_hoc", "value": "2019-2020", "message": "Năm học không đúng kỳ tiếp nhận"},
    {"severity": "error", "rule": "unknown_column_thing", "sheet": "Đội ngũ", "row_number": 7,
     "column_key": "gv_hang_4", "value": "x", "message": "Cột không có trong biểu"},
    {"severity": "error", "rule": "missing_school", "sheet": "Đội ngũ", "row_number": None,
     "column_key": "ma_truong", "value": "14118003", "message": "Thiếu trường 14118003 (Trường MN Chiềng Ơn)"},
    {"severity": "error", "rule": "missing_sheet", "sheet": None, "row_number": None, "column_key": None,
     "value": None, "message": "Thiếu trang tính BoiDuong"},
    {"severity": "info", "rule": "ignored_column", "sheet": "Đội ngũ", "row_number": 4, "column_key": "stt",
     "value": "STT", "message": "Cột STT được bỏ qua"},
]


def rgb(cell):
    return cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None


def test_cells_are_highlighted_and_commented_where_the_header_says(tmp_path):
    source = district_workbook(tmp_path / "Quỳnh Nhai CN.xlsx")
    out = annotate_workbook(source, FINDINGS, tmp_path / "out" / "annotated.xlsx")

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == ERRORS_SHEET and wb.active.title == ERRORS_SHEET
    staff = wb["Đội ngũ"]
    # gv_bien_che is in column D (label "GV trong biên chế"), gv_tong in column C (NFD, other case, spaces)
    assert rgb(staff["D6"]) == ERROR_COLOR
    assert rgb(staff["C7"]) == WARNING_COLOR
    assert staff["D6"].comment.author == AUTHOR
    assert "lớn hơn Tổng số giáo viên" in staff["D6"].comment.text
    assert "Số liệu chi tiết không được lớn hơn số tổng" in staff["D6"].comment.text  # the rule expected
    assert "số liệu tạm tính" in staff["D6"].comment.text  # the district's own note is kept
    assert "bình quân" in staff["C7"].comment.text
    # a column not in the sheet: comment on column A of that row (error wins over nothing)
    assert rgb(staff["A7"]) == ERROR_COLOR and "Cột không có trong biểu" in staff["A7"].comment.text
    # untouched cells stay as they were, values included
    assert rgb(staff["C6"]) is None and staff["C6"].comment is None and staff["C6"].value == 20
    assert staff["E6"].value == 3
    # ThongTin is key/value: the value column B
    assert rgb(wb["Thông tin"]["B3"]) == ERROR_COLOR
    assert "Năm học không đúng kỳ tiếp nhận" in wb["Thông tin"]["B3"].comment.text
    # info findings are not marked
    assert rgb(staff["A4"]) is None


def test_the_errors_sheet_lists_every_error_and_warning(tmp_path):
    source = district_workbook(tmp_path / "in.xlsx")
    out = annotate_workbook(source, FINDINGS, tmp_path / "annotated.xlsx")
    ws = openpyxl.load_workbook(out)[ERRORS_SHEET]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 6  # the info finding is not listed
    by_message = {r[7]: r for r in rows}
    missing = by_message["Thiếu trường 14118003 (Trường MN Chiềng Ơn)"]
    assert missing[1:4] == ("Lỗi", "Đội ngũ", None) and missing[5] == "Mã trường"
    assert missing[6] is None  # the code of a school left out is no value the district wrote (the message says it)
    assert "Mọi trường đang hoạt động" in missing[8]
    assert by_message["Thiếu trang tính BoiDuong"][2] in ("", None)
    over = by_message["GV trong biên chế (25) lớn hơn Tổng số giáo viên (20)"]
    assert over[3:7] == (6, "D6", "GV trong biên chế", "25")
    link_row = next(r for r in ws.iter_rows(min_row=2) if r[7].value == over[7])
    assert link_row[4].hyperlink.location == "'Đội ngũ'!D6"


def test_reannotating_an_annotated_copy_replaces_the_errors_sheet(tmp_path):
    first = annotate_workbook(district_workbook(tmp_path / "in.xlsx"), FINDINGS[:1], tmp_path / "a1.xlsx")
    second = annotate_workbook(first, FINDINGS[1:2], tmp_path / "a2.xlsx")
    wb = openpyxl.load_workbook(second)
    assert wb.sheetnames.count(ERRORS_SHEET) == 1
    assert [r[7] for r in wb[ERRORS_SHEET].iter_rows(min_row=2, values_only=True)] == [FINDINGS[1]["message"]]


@pytest.mark.parametrize("kind", ["zip", "garbage"])
def test_a_csv_or_unreadable_submission_gets_only_the_errors_sheet(tmp_path, kind):
    source = tmp_path / ("bao-cao.zip" if kind == "zip" else "hong.xlsx")
    if kind == "zip":
        with zipfile.ZipFile(source, "w") as z:
            z.writestr("ThongTin.csv", "key,value\nma_don_vi,118\n")
    else:
        source.write_bytes(b"not an xlsx at all")
    out = annotate_workbook(source, FINDINGS, tmp_path / "errors.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [ERRORS_SHEET]
    assert wb[ERRORS_SHEET].max_row == 1 + 6
    assert all(r[4] in ("", None) for r in wb[ERRORS_SHEET].iter_rows(min_row=2, values_only=True))


def test_layout_lookups():
    assert canonical_sheet("THONG  TIN") == "ThongTin"
    assert canonical_sheet("Đội ngũ") == "DoiNgu"
    assert canonical_sheet("Ghi chú") is None
    assert canonical_sheet("Biểu 2 - Đội ngũ") == canonical_sheet("DoiNgu (2)") == "DoiNgu"
    assert column_label("Đội ngũ", "gv_tong") == "Tổng số giáo viên"
    assert column_label(None, "so_lop_5_tuoi") == "Trong đó: lớp 5 tuổi"
    assert column_label("DoiNgu", "not_a_key") == "not_a_key"


def test_a_column_is_located_by_its_label_as_the_reader_matches_it():
    ws = openpyxl.Workbook().active
    ws.append(["Mã trường", "Tên trường", "1. Tổng số GV (người)", "CBQL xếp loại tốt"])
    assert locate_column(ws, "DoiNgu", "gv_tong") == 3
    assert locate_column(ws, "DanhGiaChuan", "cbql_tot") == 4
    assert locate_column(ws, "DoiNgu", "nv_tong") is None


def test_a_corrected_copy_sent_back_loses_the_earlier_marks(tmp_path):
    # the clerk fixes the annotated copy itself and sends it back; its new findings are elsewhere
    first = annotate_workbook(district_workbook(tmp_path / "in.xlsx"), FINDINGS[:1], tmp_path / "a1.xlsx")
    wb = openpyxl.load_workbook(first)
    wb["Đội ngũ"]["D6"] = 18  # fixed: no more than the 20 teachers
    wb["Đội ngũ"]["E6"].fill = openpyxl.styles.PatternFill(fill_type="solid", start_color="FFFF9999")  # their own
    wb.save(tmp_path / "corrected.xlsx")
    second = annotate_workbook(tmp_path / "corrected.xlsx", FINDINGS[1:2], tmp_path / "a2.xlsx")

    staff = openpyxl.load_workbook(second)["Đội ngũ"]
    # D6 is no longer marked: our fill is gone and the district's own note is back on its own
    assert rgb(staff["D6"]) is None
    assert staff["D6"].comment.text == "số liệu tạm tính" and staff["D6"].comment.author != AUTHOR
    # tonight's finding is marked; a fill the district chose itself (no comment of ours) stays
    assert rgb(staff["C7"]) == WARNING_COLOR and "bình quân" in staff["C7"].comment.text
    assert rgb(staff["E6"]) == ERROR_COLOR and staff["E6"].comment is None
    commented = [c.coordinate for row in staff.iter_rows() for c in row if c.comment is not None]
    assert commented == ["D6", "C7"]


def test_a_thong_tin_value_is_marked_where_the_reader_reads_it(tmp_path):
    # forms merge the label over A:B and put the value in C; an item may also be written "label: value"
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "ThongTin"
    info.append(["Phiên bản biểu mẫu", None, "DA33-MN-v1"])
    info.append(["Năm học", None, "2018-2019"])
    info.append(["Mã đơn vị: 152"])
    info.append(["Người lập biểu"])
    for row in (1, 2, 4):
        info.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    wb.save(tmp_path / "in.xlsx")
    findings = [
        {"severity": "error", "rule": "wrong_period", "sheet": "ThongTin", "row_number": 2, "column_key": "nam_hoc",
         "value": "2018-2019", "message": "Năm học không đúng kỳ tiếp nhận"},
        {"severity": "error", "rule": "unknown_district", "sheet": "ThongTin", "row_number": 3,
         "column_key": "ma_don_vi", "value": "152", "message": "Mã đơn vị không có trong danh mục"},
        {"severity": "error", "rule": "missing_value", "sheet": "ThongTin", "row_number": 4, "column_key": "nguoi_lap",
         "value": None, "message": "Thiếu thông tin bắt buộc 'Người lập biểu'"},
    ]
    copy = annotate(tmp_path / "in.xlsx", findings, tmp_path / "out.xlsx")
    assert [p.cell for p in copy.places] == ["C2", "A3", "C4"]
    info = openpyxl.load_workbook(copy.path)["ThongTin"]
    assert rgb(info["C2"]) == ERROR_COLOR and "Năm học không đúng" in info["C2"].comment.text
    assert info["A2"].comment is None and rgb(info["A2"]) is None  # the label is not the value
    assert "Mã đơn vị không có" in info["A3"].comment.text and "Thiếu thông tin" in info["C4"].comment.text


def test_each_finding_is_placed_at_its_cell_under_the_header_the_district_wrote(tmp_path):
    source = district_workbook(tmp_path / "in.xlsx")
    copy = annotate(source, FINDINGS, tmp_path / "out.xlsx")
    places = dict(zip((f["rule"] for f in FINDINGS), copy.places, strict=True))
    assert places["exceeds_total"] == Place("Đội ngũ", "D6", "GV trong biên chế")
    assert places["teacher_ratio"] == Place("Đội ngũ", "C7", "TỔNG SỐ giáo viên")  # as written (NFC, spaces)
    assert places["wrong_period"] == Place("Thông tin", "B3", None)
    assert places["unknown_column_thing"] == Place("Đội ngũ", "A7", None)
    assert places["missing_school"] is None and places["missing_sheet"] is None and places["ignored_column"] is None
    # the errors sheet runs in the template's order (ThongTin before DoiNgu), then by row and column
    rows = list(openpyxl.load_workbook(copy.path)[ERRORS_SHEET].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[3], r[4]) for r in rows] == [
        (None, None, None), ("Thông tin", 3, "B3"), ("Đội ngũ", None, None), ("Đội ngũ", 6, "D6"),
        ("Đội ngũ", 7, "A7"), ("Đội ngũ", 7, "C7")]
    assert rows[5][5] == "TỔNG SỐ giáo viên"  # the column as the district labelled it


def test_a_finding_under_a_grouped_header_is_placed_in_its_column(tmp_path):
    # `CBQL` merged over `Tổng số | Biên chế | Đảng viên`: no cell holds `Tổng số CBQL`, so the comment went to
    # column A of the row and the e-mail named the wrong cell. The column is found as the reader found it.
    from tests.etl.test_read import read, valid_book, write_xlsx
    from tests.etl.test_read_groups import DOI_NGU_TWO_ROWS, grouped

    book, expected = valid_book(2)
    book["DoiNgu"], merges = grouped(DOI_NGU_TWO_ROWS, expected["DoiNgu"])
    book["DoiNgu"][3][2] = "năm"  # cbql_tong of the second school, column C, row 4
    wb = read(tmp_path, book, merges={"DoiNgu": merges})
    found = [f for f in wb.findings if f.severity == "error"]
    assert [(f.rule, f.sheet, f.row_number, f.column_key) for f in found] == [
        ("not_a_number", "DoiNgu", 4, "cbql_tong")]
    source = write_xlsx(tmp_path / "in.xlsx", book, merges={"DoiNgu": merges})
    copy = annotate(source, [vars(f) for f in found], tmp_path / "out.xlsx")
    assert copy.places == [Place("DoiNgu", "C4", "CBQL / Tổng số")]
    assert "năm" in openpyxl.load_workbook(copy.path)["DoiNgu"]["C4"].comment.text


# ------------------------------------------------------------------ what a district's file may hold
HOSTILE = ['=HYPERLINK("http://x.example/","bấm")', "+cmd|'/C calc'!A0", "@SUM(1+1)", "-2+3", "=1+1",
           "Trường\x01 MN\x1f Chiềng Ơn"]


def test_what_a_file_holds_is_written_back_as_text_never_as_a_formula(tmp_path):
    # A school name typed `=HYPERLINK(...)` reaches a finding's value and message; in the list the district and
    # the Sở open it was a live formula (openpyxl makes one of any text beginning with `=`), and a control
    # character made openpyxl refuse the cell, so no copy was sent at all.
    findings = [{"severity": "warning", "rule": "name_mismatch", "sheet": "Đội ngũ", "row_number": 6,
                 "column_key": "gv_tong", "value": value, "message": value} for value in HOSTILE]
    out = annotate_workbook(district_workbook(tmp_path / "in.xlsx"), findings, tmp_path / "annotated.xlsx")
    with zipfile.ZipFile(out) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    assert not [name for name, xml in parts.items() if b"<f>" in xml or b"<f " in xml]
    wb = openpyxl.load_workbook(out)
    listed = [(r[6].value, r[6].data_type, r[7].value) for r in wb[ERRORS_SHEET].iter_rows(min_row=2)]
    shown = [value.replace("\x01", "").replace("\x1f", "") for value in HOSTILE]
    assert sorted(listed) == sorted((value, "s", value) for value in shown)
    comment = wb["Đội ngũ"]["C6"].comment.text
    assert all(value in comment for value in shown) and "\x01" not in comment


def test_a_workbook_too_large_to_open_gets_only_the_errors_sheet(tmp_path):
    # The reader rejects a zip bomb from its declared sizes without unpacking it; the annotated copy opened it
    # whole with openpyxl (a 1 MB file of 240 MB of cells: 40 s and 1 GB, and a 20 MB one takes the worker down).
    source = district_workbook(tmp_path / "in.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (51 * 1024 * 1024))
            zout.writestr(item.filename, data)
    assert bomb.stat().st_size < 200_000
    out = annotate_workbook(bomb, FINDINGS, tmp_path / "errors.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [ERRORS_SHEET] and wb[ERRORS_SHEET].max_row == 1 + 6
