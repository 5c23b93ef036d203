"""The blank district template (etl/template.py), opened with openpyxl as a district would open it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from etl.config import PROJECT_ROOT, ProvinceConfig
from etl.layout import load_layout
from etl.template import INSTRUCTIONS_SHEET, current_school_year, default_school_year, write_blank_template

LAYOUT = load_layout()


@pytest.fixture(scope="module")
def son_la() -> ProvinceConfig:
    return ProvinceConfig(PROJECT_ROOT / "config" / "provinces" / "son-la")


@pytest.fixture(scope="module")
def template_119(son_la: ProvinceConfig, tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    """Thuận Châu's template of 2019-2020, the last year before Trường Mầm non Hoa Mai closed."""
    path = write_blank_template(son_la, "119", tmp_path_factory.mktemp("tpl") / "119.xlsx", nam_hoc="2019-2020")
    return openpyxl.load_workbook(path)


def validations(ws) -> dict[str, list]:
    """Data validations of a sheet by the column letter of their first cell."""
    out: dict[str, list] = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            out.setdefault(openpyxl.utils.get_column_letter(cell_range.min_col), []).append((dv, cell_range))
    return out


def test_every_sheet_of_the_layout_in_order_after_the_instructions(template_119: openpyxl.Workbook) -> None:
    assert template_119.sheetnames == [INSTRUCTIONS_SHEET, *LAYOUT.sheets]


def test_the_instructions_are_in_vietnamese_for_this_district_and_year(template_119) -> None:
    lines = [r[0] for r in template_119[INSTRUCTIONS_SHEET].iter_rows(values_only=True)]
    assert lines[0] == "HƯỚNG DẪN ĐIỀN BIỂU MẪU DA33-MN-v1"
    assert lines[1] == ("Đơn vị: Phòng GD&ĐT huyện Thuận Châu (mã 119). Năm học 2019-2020. Hạn nộp: kỳ Học kỳ I hết "
                        "ngày 20/01/2020; kỳ Cuối năm hết ngày 15/06/2020.")
    assert "Mỗi kỳ báo cáo nộp một tệp .xlsx này cho Sở Giáo dục và Đào tạo Sơn La (so-gddt@example.org)." in lines[2]
    assert not any("{" in line or line.startswith("#") for line in lines)  # every field filled, no source comment
    assert any("ô để trống được tính là 0" in line for line in lines)
    # every cell to fill says, when selected, what to write there
    [(so_nhom_tre, _)] = validations(template_119["TruongLop"])["E"]
    assert so_nhom_tre.prompt == "Số nhóm trẻ: số nguyên, để trống được tính là 0." and so_nhom_tre.showInputMessage


def test_school_sheets_list_the_open_registry_schools(son_la: ProvinceConfig, template_119) -> None:
    expected = [(s["ma_truong"], s["ten_truong"]) for s in son_la.open_schools("119", "2019-2020")]
    assert "14119031" in [code for code, _ in expected]
    for sheet in LAYOUT.school_sheets:
        ws = template_119[sheet.name]
        assert "Phòng GD&ĐT huyện Thuận Châu" in ws["A1"].value
        assert [c.value for c in ws[2]] == [c.label_vi for c in sheet.columns]
        assert [c.value for c in ws[3]] == sheet.keys
        rows = list(ws.iter_rows(min_row=4, values_only=True))
        assert [r[0] for r in rows] == [code for code, _ in expected]
        assert all(ws.cell(row=i, column=1).data_type == "s" for i in range(4, 4 + len(expected)))
        if "ten_truong" in sheet.keys:
            assert [r[sheet.keys.index("ten_truong")] for r in rows] == [name for _, name in expected]
        counts = [sheet.keys.index(k) for k in sheet.count_keys]
        assert all(r[i] is None for r in rows for i in counts), "count cells must be empty"
        assert ws.freeze_panes in ("B4", "C4")
        letters = [openpyxl.utils.get_column_letter(i + 1) for i in range(len(sheet.columns))]
        assert all((ws.column_dimensions[letter].width or 0) >= 10 for letter in letters)
    types = [r[2] for r in template_119["TruongLop"].iter_rows(min_row=4, values_only=True)]
    assert set(types) == {"Công lập"}


def test_thongtin_holds_version_and_district_and_blanks_to_fill(template_119) -> None:
    ws = template_119["ThongTin"]
    rows = {a: b for a, b in ws.iter_rows(values_only=True)}
    assert ws.max_column == 2
    assert list(rows) == [c.label_vi for c in LAYOUT.sheets["ThongTin"].columns]
    assert rows.pop("Phiên bản biểu mẫu") == "DA33-MN-v1"
    assert rows.pop("Mã đơn vị") == "119"
    assert rows.pop("Tên đơn vị") == "Phòng GD&ĐT huyện Thuận Châu"
    assert rows.pop("Năm học") == "2019-2020"  # the year whose schools are listed, not typed by hand
    assert set(rows.values()) == {None}
    [ky] = [dv for dv, r in validations(ws)["B"] if dv.type == "list"]
    assert ky.formula1 == '"Học kỳ I,Cuối năm"'


def test_thongtin_text_cells_to_fill_are_text_formatted(template_119) -> None:
    """Excel turns a phone number typed into a General cell into a number and drops its leading zero
    (0912345678 -> 912345678); a text-formatted cell keeps what the clerk typed."""
    ws = template_119["ThongTin"]
    formats = {a.value: b.number_format for a, b in ws.iter_rows()}
    for label in ("Điện thoại", "Năm học", "Người lập biểu", "Email"):
        assert formats[label] == "@", label


def test_validations_guard_counts_and_lists(template_119) -> None:
    truong_lop = validations(template_119["TruongLop"])
    [(loai_hinh, cells)] = truong_lop["C"]
    assert loai_hinh.type == "list" and loai_hinh.formula1 == '"Công lập,Tư thục,Dân lập"'
    assert cells.min_row == 4 and cells.max_row > 4 + 31  # every school, and room for more
    [(so_nhom_tre, _)] = truong_lop["E"]
    assert (so_nhom_tre.type, so_nhom_tre.operator, so_nhom_tre.formula1) == ("whole", "greaterThanOrEqual", "0")
    courses = validations(template_119["LopBoiDuong"])
    assert courses["B"][0][0].formula1 == '"Chính trị,Chuyên môn,Trực tuyến"'
    assert courses["C"][0][0].formula1 == "1"  # so_hoc_vien ≥ 1
    assert courses["F"][0][0].formula1 == '"Ngân sách,Xã hội hóa,Khác"'


def test_schools_of_the_requested_year(son_la: ProvinceConfig, tmp_path: Path) -> None:
    path = write_blank_template(son_la, "119", tmp_path / "t.xlsx", nam_hoc="2020-2021")
    codes = [r[0] for r in openpyxl.load_workbook(path)["DoiNgu"].iter_rows(min_row=4, values_only=True)]
    assert "14119031" not in codes and len(codes) == 31


def test_unknown_district_raises_in_both_languages(son_la: ProvinceConfig, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="không có trong danh mục.*unknown district code '117'"):
        write_blank_template(son_la, "117", tmp_path / "t.xlsx")
    assert not (tmp_path / "t.xlsx").exists()


def test_same_arguments_give_the_same_bytes(son_la: ProvinceConfig, tmp_path: Path) -> None:
    a = write_blank_template(son_la, "128", tmp_path / "a.xlsx", nam_hoc="2024-2025")
    b = write_blank_template(son_la, "128", tmp_path / "b.xlsx", nam_hoc="2024-2025")
    assert a.read_bytes() == b.read_bytes()


def test_current_school_year_starts_in_august() -> None:
    assert current_school_year(dt.date(2026, 7, 31)) == "2025-2026"
    assert current_school_year(dt.date(2026, 8, 1)) == "2026-2027"


def test_default_year_is_the_latest_with_open_schools(tmp_path: Path) -> None:
    (tmp_path / "province.yaml").write_text("slug: test\nma_tinh: '99'\n", encoding="utf-8")
    (tmp_path / "districts.csv").write_text("ma_don_vi,ten_don_vi,email\n001,A,a@example.org\n", encoding="utf-8")
    (tmp_path / "schools.csv").write_text(
        "ma_truong,ten_truong,ma_don_vi,loai_hinh,mo_tu_nam_hoc,dong_tu_nam_hoc\n"
        "99001001,Trường Mầm non Một,001,cong_lap,2015-2016,2022-2023\n",
        encoding="utf-8",
    )
    province = ProvinceConfig(tmp_path)
    assert default_school_year(province, "001", dt.date(2026, 11, 1)) == "2021-2022"
    assert default_school_year(province, "001", dt.date(2020, 11, 1)) == "2020-2021"


def test_a_template_filled_in_by_the_clerk_is_accepted_without_a_finding(engine, settings, tmp_path: Path) -> None:
    """The clerk's way: open the template, type the figures into the cells given (the demo generator's
    figures, copied cell by cell by school code), choose the round, save, send."""
    from etl.generate import generate_district_workbook
    from etl.ingest import ingest_files

    province = settings.province_config()
    path = write_blank_template(province, "119", tmp_path / "Thuận Châu CN.xlsx", nam_hoc="2019-2020")
    figures = openpyxl.load_workbook(
        generate_district_workbook(province, "119", "2019-2020", "CN", tmp_path / "figures.xlsx"))
    wb = openpyxl.load_workbook(path)
    typed = {row[0].value: row[1].value for row in figures["ThongTin"].iter_rows()}
    for label_cell, value_cell in wb["ThongTin"].iter_rows():
        if value_cell.value is None and typed.get(label_cell.value) is not None:
            value_cell.value = typed[label_cell.value]
    for sheet in LAYOUT.school_sheets:
        source = {row[0]: row for row in figures[sheet.name].iter_rows(min_row=4, values_only=True)}
        for row in wb[sheet.name].iter_rows(min_row=4):
            if row[0].value in source:
                for cell, value in zip(row, source[row[0].value], strict=False):
                    if cell.value is None:
                        cell.value = value
    for i, values in enumerate(figures["LopBoiDuong"].iter_rows(min_row=4, values_only=True)):
        for j, value in enumerate(values):
            wb["LopBoiDuong"].cell(row=4 + i, column=1 + j, value=value)
    wb.save(path)

    [verdict] = ingest_files(engine, settings, [path])
    assert (verdict.status, verdict.n_errors, verdict.n_warnings) == ("accepted", 0, 0)
    assert (verdict.ma_don_vi, verdict.nam_hoc, verdict.ky_bao_cao) == ("119", "2019-2020", "CN")
