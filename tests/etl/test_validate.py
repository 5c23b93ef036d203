"""etl/validate.py: every rule it emits, on small workbooks built in memory (no reader involved)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from etl.config import PROJECT_ROOT, ProvinceConfig
from etl.layout import load_layout
from etl.model import Finding, ParsedWorkbook
from etl.read import read_workbook
from etl.validate import RULES_DOC, load_suites, render_rules_doc, rules_table, validate_workbooks

SON_LA = ProvinceConfig(PROJECT_ROOT / "config" / "provinces" / "son-la")
SAMPLES = PROJECT_ROOT.parent / "shared" / "data" / "samples"
FIRST_ROW = 6  # Excel row of the first school in the built tables (title and header rows above)
WRITTEN = {  # sheet names as a district might write them (the findings must carry these)
    "ThongTin": "Thông tin",
    "TruongLop": "Trường lớp",
    "DoiNgu": "Đội ngũ",
    "DanhGiaChuan": "Đánh giá chuẩn",
    "BoiDuong": "Bồi dưỡng",
    "LopBoiDuong": "Lớp bồi dưỡng",
}
# One school's valid figures: every sum and <= rule holds, 20 children per group, 25 per class,
# 18 teachers for 8 groups and classes.
SCHOOL = {
    "TruongLop": dict(
        loai_hinh="cong_lap",
        dat_chuan_qg=1,
        so_nhom_tre=2,
        so_lop_mau_giao=6,
        so_lop_5_tuoi=2,
        tre_nha_tre=40,
        tre_mau_giao=150,
        tre_5_tuoi=50,
    ),
    "DoiNgu": dict(
        cbql_tong=3,
        cbql_bien_che=3,
        cbql_dang_vien=3,
        cbql_td_duoi_trung_cap=0,
        cbql_td_trung_cap=0,
        cbql_td_cao_dang=0,
        cbql_td_dai_hoc=2,
        cbql_td_sau_dai_hoc=1,
        gv_tong=18,
        gv_bien_che=15,
        gv_td_duoi_trung_cap=0,
        gv_td_trung_cap=1,
        gv_td_cao_dang=2,
        gv_td_dai_hoc=14,
        gv_td_sau_dai_hoc=1,
        gv_hang_1=0,
        gv_hang_2=5,
        gv_hang_3=10,
        gv_hang_4=0,
        gv_chua_xep_hang=3,
        nv_tong=4,
        gv_nghi_huu=1,
        gv_tuyen_moi=2,
    ),
    "DanhGiaChuan": dict(
        gv_duoc_danh_gia=18,
        gv_tot=8,
        gv_kha=8,
        gv_dat=2,
        gv_chua_dat=0,
        cbql_duoc_danh_gia=3,
        cbql_tot=2,
        cbql_kha=1,
        cbql_dat=0,
        cbql_chua_dat=0,
    ),
    "BoiDuong": dict(
        gv_cot_can=2,
        cbql_cot_can=1,
        cot_can_bd_ho_tro=3,
        gv_bd_theo_chuan=18,
        cbql_bd_theo_chuan=3,
        gv_hoan_thanh_bdtx=18,
        cbql_hoan_thanh_bdtx=3,
        gv_tin_hoc=10,
        cbql_tin_hoc=3,
        gv_ngoai_ngu=5,
        cbql_ngoai_ngu=2,
        gv_llct=3,
        cbql_llct=3,
        gv_bo_nhiem_hang=2,
        gv_bo_nhiem_hang_co_cc=1,
        cbql_bo_nhiem=1,
        cbql_bo_nhiem_co_cc=1,
    ),
}
COURSES = [
    dict(
        ten_lop="Bồi dưỡng chính trị hè",
        hinh_thuc="chinh_tri",
        so_hoc_vien=120,
        so_hoan_thanh=118,
        kinh_phi=12.5,
        nguon_kinh_phi="ngan_sach",
    ),
    dict(
        ten_lop="Chuyên đề STEAM",
        hinh_thuc="chuyen_mon",
        so_hoc_vien=60,
        so_hoan_thanh=60,
        kinh_phi=8.0,
        nguon_kinh_phi="ngan_sach",
    ),
]


def make_workbook(ma_don_vi: str = "118", nam_hoc: str = "2019-2020", ky_bao_cao: str = "CN") -> ParsedWorkbook:
    """A valid submission of the district's registry schools open in that year, typed as the reader types it."""
    layout = load_layout()
    district = next(d for d in SON_LA.districts if d["ma_don_vi"] == ma_don_vi)
    schools = SON_LA.open_schools(ma_don_vi, nam_hoc)
    header = dict(
        phien_ban="DA33-MN-v1",
        ma_don_vi=ma_don_vi,
        ten_don_vi=district["ten_don_vi"],
        nam_hoc=nam_hoc,
        ky_bao_cao=ky_bao_cao,
        nguoi_lap="Lò Thị Hoa",
        email="pgd@example.org",
        ngay_lap=dt.date(2020, 6, 10),
        dan_so_0_2=5200,
        dan_so_3_5=6100,
        dan_so_5=2050,
    )
    tables = {}
    for sheet, values in SCHOOL.items():
        rows = [{"ma_truong": s["ma_truong"], "ten_truong": s["ten_truong"], **values} for s in schools]
        tables[sheet] = _typed(pd.DataFrame(rows), sheet, layout)
    tables["LopBoiDuong"] = _typed(pd.DataFrame(COURSES), "LopBoiDuong", layout)
    return ParsedWorkbook(
        file_name=f"{ma_don_vi}_{nam_hoc}_{ky_bao_cao}.xlsx",
        template_version="DA33-MN-v1",
        header=header,
        header_rows={key: 2 + i for i, key in enumerate(header)},
        tables=tables,
        sheet_names=dict(WRITTEN),
    )


def _typed(frame: pd.DataFrame, sheet: str, layout) -> pd.DataFrame:
    spec = layout.sheets[sheet]
    for c in spec.columns:
        if c.key in frame:
            frame[c.key] = frame[c.key].astype(
                {"int": "Int64", "flag": "Int64", "decimal": "float64"}.get(c.type, "str")
            )
    frame["_row"] = range(FIRST_ROW, FIRST_ROW + len(frame))
    return frame


def only(wb: ParsedWorkbook, rule: str) -> Finding:
    found = [f for f in wb.findings if f.rule == rule]
    assert len(found) == 1, [(f.rule, f.message) for f in wb.findings]
    return found[0]


def edit(sheet: str, index: int, **values):
    def apply(wb: ParsedWorkbook) -> None:
        for column, value in values.items():
            wb.tables[sheet].loc[index, column] = value

    return apply


def edit_header(**values):
    return lambda wb: wb.header.update(values)


def summary(findings: list[Finding]) -> list[tuple]:
    return sorted(
        ((f.severity, f.rule, f.sheet, f.row_number, f.column_key, f.value) for f in findings),
        key=lambda t: tuple("" if v is None else str(v) for v in t),
    )


def test_a_valid_workbook_has_no_finding():
    wb = make_workbook()
    validate_workbooks([wb], SON_LA, expected_period=("2019-2020", "CN"))
    assert wb.findings == []


# One broken workbook per case, all validated in ONE batch: each workbook must get exactly its own findings.
# Expected: (severity, rule, canonical sheet, table index or header key or None, column_key, value).
TL, DN, DG, BD, LB, TT = "TruongLop", "DoiNgu", "DanhGiaChuan", "BoiDuong", "LopBoiDuong", "ThongTin"
CASES = {
    "sum_cbql_trinh_do": (edit(DN, 0, cbql_td_dai_hoc=3), [("error", "sum_mismatch", DN, 0, "cbql_tong", "3")]),
    "sum_gv_trinh_do": (edit(DN, 2, gv_td_dai_hoc=13), [("error", "sum_mismatch", DN, 2, "gv_tong", "18")]),
    "sum_gv_hang": (edit(DN, 1, gv_hang_2=6), [("error", "sum_mismatch", DN, 1, "gv_tong", "18")]),
    "sum_gv_xep_loai": (edit(DG, 3, gv_kha=7), [("error", "sum_mismatch", DG, 3, "gv_duoc_danh_gia", "18")]),
    "sum_cbql_xep_loai": (edit(DG, 4, cbql_tot=1), [("error", "sum_mismatch", DG, 4, "cbql_duoc_danh_gia", "3")]),
    "lop_5_tuoi": (edit(TL, 5, so_lop_5_tuoi=7), [("error", "exceeds_total", TL, 5, "so_lop_5_tuoi", "7")]),
    "tre_5_tuoi": (edit(TL, 6, tre_5_tuoi=151), [("error", "exceeds_total", TL, 6, "tre_5_tuoi", "151")]),
    "cbql_bien_che": (edit(DN, 7, cbql_bien_che=4), [("error", "exceeds_total", DN, 7, "cbql_bien_che", "4")]),
    "cbql_dang_vien": (edit(DN, 8, cbql_dang_vien=4), [("error", "exceeds_total", DN, 8, "cbql_dang_vien", "4")]),
    "gv_bien_che": (edit(DN, 9, gv_bien_che=19), [("error", "exceeds_total", DN, 9, "gv_bien_che", "19")]),
    "cot_can_ho_tro": (
        edit(BD, 10, cot_can_bd_ho_tro=4),
        [("error", "exceeds_total", BD, 10, "cot_can_bd_ho_tro", "4")],
    ),
    "gv_bo_nhiem_co_cc": (
        edit(BD, 11, gv_bo_nhiem_hang_co_cc=3),
        [("error", "exceeds_total", BD, 11, "gv_bo_nhiem_hang_co_cc", "3")],
    ),
    "cbql_bo_nhiem_co_cc": (
        edit(BD, 0, cbql_bo_nhiem_co_cc=2),
        [("error", "exceeds_total", BD, 0, "cbql_bo_nhiem_co_cc", "2")],
    ),
    "so_hoan_thanh": (edit(LB, 0, so_hoan_thanh=121), [("error", "exceeds_total", LB, 0, "so_hoan_thanh", "121")]),
    "so_hoc_vien_0": (
        edit(LB, 1, so_hoc_vien=0, so_hoan_thanh=0),
        [("error", "out_of_range", LB, 1, "so_hoc_vien", "0")],
    ),
    "dan_so_5": (edit_header(dan_so_5=7000), [("error", "exceeds_total", TT, "dan_so_5", "dan_so_5", "7000")]),
    "gv_danh_gia_vs_doi_ngu": (
        edit(DG, 2, gv_duoc_danh_gia=19, gv_tot=9),
        [("error", "exceeds_total", DG, 2, "gv_duoc_danh_gia", "19")],
    ),
    "cbql_danh_gia_vs_doi_ngu": (
        edit(DG, 1, cbql_duoc_danh_gia=4, cbql_tot=3),
        [("error", "exceeds_total", DG, 1, "cbql_duoc_danh_gia", "4")],
    ),
    "class_size_nha_tre": (edit(TL, 3, tre_nha_tre=100), [("warning", "class_size", TL, 3, "tre_nha_tre", "100")]),
    "class_size_mau_giao": (
        edit(TL, 4, tre_mau_giao=24, tre_5_tuoi=10),
        [("warning", "class_size", TL, 4, "tre_mau_giao", "24")],
    ),
    "class_size_no_group": (edit(TL, 2, so_nhom_tre=0), [("warning", "class_size", TL, 2, "tre_nha_tre", "40")]),
    "teacher_ratio": (
        edit(DN, 5, gv_tong=40, gv_td_dai_hoc=36, gv_hang_3=32),
        [("warning", "teacher_ratio", DN, 5, "gv_tong", "40")],
    ),
    "rank_iv_before_2021": (edit(DN, 6, gv_hang_4=2, gv_hang_3=8), []),
    "wrong_template_version": (
        edit_header(phien_ban="DA33-MN-v0"),
        [("error", "wrong_template_version", TT, "phien_ban", "phien_ban", "DA33-MN-v0")],
    ),
    "unknown_district": (
        edit_header(ma_don_vi="199"),
        [("error", "unknown_district", TT, "ma_don_vi", "ma_don_vi", "199")],
    ),
    "nam_hoc_format": (
        edit_header(nam_hoc="2019/2020"),
        [("error", "wrong_period", TT, "nam_hoc", "nam_hoc", "2019/2020")],
    ),
    "nam_hoc_years": (
        edit_header(nam_hoc="2019-2021"),
        [("error", "wrong_period", TT, "nam_hoc", "nam_hoc", "2019-2021")],
    ),
    "ky_bao_cao": (edit_header(ky_bao_cao="HK2"), [("error", "wrong_period", TT, "ky_bao_cao", "ky_bao_cao", "HK2")]),
    # the row keeps its school's name, so the missing school is that row's (tests/etl/test_validate_cascades.py)
    "mistyped_code": (
        edit(TL, 0, ma_truong="14118999"),
        [("error", "unknown_school", TL, 0, "ma_truong", "14118999")],
    ),
    "not_in_registry": (
        edit(TL, 0, ma_truong="14118999", ten_truong="Trường Mầm non Hoa Ban"),
        [
            ("error", "unknown_school", TL, 0, "ma_truong", "14118999"),
            ("error", "missing_school", TL, None, "ma_truong", "14118001"),
        ],
    ),
    "other_district": (
        edit(DN, 0, ma_truong="14116001", ten_truong="Trường Mầm non Chiềng Lề"),
        [
            ("error", "unknown_school", DN, 0, "ma_truong", "14116001"),
            ("error", "missing_school", DN, None, "ma_truong", "14118001"),
        ],
    ),
    "school_missing": (
        lambda wb: wb.tables.__setitem__(DN, wb.tables[DN].drop(index=3).reset_index(drop=True)),
        [("error", "missing_school", DN, None, "ma_truong", "14118004")],
    ),
    "school_missing_from_ratings": (  # the others listed: this school's ratings would count 0 unnoticed
        lambda wb: wb.tables.__setitem__(DG, wb.tables[DG].drop(index=3).reset_index(drop=True)),
        [("warning", "missing_school", DG, None, "ma_truong", "14118004")],
    ),
    "school_missing_from_training": (
        lambda wb: wb.tables.__setitem__(BD, wb.tables[BD].drop(index=0).reset_index(drop=True)),
        [("warning", "missing_school", BD, None, "ma_truong", "14118001")],
    ),
    "training_sheet_empty": (  # nobody listed (as HKI allows): not one warning per school
        lambda wb: wb.tables.__setitem__(BD, wb.tables[BD].iloc[0:0]),
        [],
    ),
    "school_name": (
        edit(TL, 1, ten_truong="Trường Mầm non Sai Tên"),
        [("warning", "name_mismatch", TL, 1, "ten_truong", "Trường Mầm non Sai Tên")],
    ),
    "district_name": (
        edit_header(ten_don_vi="Phòng GD&ĐT huyện Mộc Châu"),
        [("warning", "name_mismatch", TT, "ten_don_vi", "ten_don_vi", "Phòng GD&ĐT huyện Mộc Châu")],
    ),
    "name_variants_accepted": (
        lambda wb: (
            edit(TL, 2, ten_truong="TRƯỜNG MN  CHIỀNG KHAY")(wb),
            edit(DN, 2, ten_truong="MN Chiềng Khay")(wb),
            edit_header(ten_don_vi="PHÒNG GIÁO DỤC VÀ ĐÀO TẠO HUYỆN QUỲNH NHAI")(wb),
        ),
        [],
    ),
    "unreadable_cell_not_reported_twice": (edit(DN, 2, gv_td_dai_hoc=pd.NA), []),
    "missing_column_not_reported_twice": (
        lambda wb: wb.tables.__setitem__(DN, wb.tables[DN].drop(columns=["gv_hang_4"])),
        [],
    ),
}
BD_TOTALS = {
    "gv_cot_can": "gv_tong",
    "cbql_cot_can": "cbql_tong",
    "gv_bd_theo_chuan": "gv_tong",
    "cbql_bd_theo_chuan": "cbql_tong",
    "gv_hoan_thanh_bdtx": "gv_tong",
    "cbql_hoan_thanh_bdtx": "cbql_tong",
    "gv_tin_hoc": "gv_tong",
    "cbql_tin_hoc": "cbql_tong",
    "gv_ngoai_ngu": "gv_tong",
    "cbql_ngoai_ngu": "cbql_tong",
    "gv_llct": "gv_tong",
    "cbql_llct": "cbql_tong",
    "gv_bo_nhiem_hang": "gv_tong",
    "cbql_bo_nhiem": "cbql_tong",
}
for _column, _total in BD_TOTALS.items():
    _value = SCHOOL[DN][_total] + 1
    CASES[f"{_column}_vs_doi_ngu"] = (
        edit(BD, 7, **{_column: _value}),
        [("error", "exceeds_total", BD, 7, _column, str(_value))],
    )


def _expected(wb: ParsedWorkbook, rows: list[tuple]) -> list[tuple]:
    out = []
    for severity, rule, sheet, where, column, value in rows:
        row = wb.header_rows[where] if sheet == TT else (None if where is None else FIRST_ROW + where)
        out.append((severity, rule, WRITTEN[sheet], row, column, value))
    return summary([Finding(*t[:2], "", *t[2:]) for t in out])


@pytest.fixture(scope="module")
def batch() -> dict[str, ParsedWorkbook]:
    """Every case's workbook, with a valid one first, validated together in one call."""
    workbooks = {"valid": make_workbook()}
    for name, (mutate, _) in CASES.items():
        workbooks[name] = make_workbook()
        mutate(workbooks[name])
    validate_workbooks(list(workbooks.values()), SON_LA)
    return workbooks


@pytest.mark.parametrize("case", list(CASES))
def test_each_rule_in_a_batch(batch, case):
    wb = batch[case]
    assert summary(wb.findings) == _expected(wb, CASES[case][1]), [f.message for f in wb.findings]


def test_the_valid_workbook_of_the_batch_stays_clean(batch):
    assert batch["valid"].findings == []


def test_batch_attribution_two_workbooks_same_row():
    """The same Excel row of the same sheet in two workbooks: only the broken one gets the finding."""
    first, second = make_workbook(), make_workbook("127")
    second.tables[DN].loc[3, "gv_bien_che"] = 25
    validate_workbooks([first, second], SON_LA)
    assert first.findings == []
    finding = only(second, "exceeds_total")
    assert (finding.sheet, finding.row_number, finding.column_key, finding.value) == (
        WRITTEN[DN],
        9,
        "gv_bien_che",
        "25",
    )
    assert second.tables[DN].loc[3, "ma_truong"] in finding.message


def test_message_names_sheet_row_columns_values_and_rule():
    wb = make_workbook()
    wb.tables[DG].loc[1, "gv_tot"] = 10  # 10 + 8 + 2 + 0 = 20, not 18
    validate_workbooks([wb], SON_LA)
    message = only(wb, "sum_mismatch").message
    assert message.startswith("Biểu 'Đánh giá chuẩn', dòng 7 (mã trường 14118002): ")
    assert (
        "'GV xếp loại Tốt' + 'GV xếp loại Khá' + 'GV xếp loại Đạt' + 'GV xếp loại Chưa đạt' = 10 + 8 + 2 + 0 = 20"
        in message
    )
    assert "'GV được đánh giá' = 18" in message
    assert "tổng các mức xếp loại phải bằng số GV được đánh giá" in message


def test_a_cross_sheet_finding_names_the_row_of_the_other_sheet():
    # DoiNgu sorted differently from BoiDuong: the clerk must find the other side of the comparison
    wb = make_workbook()
    wb.tables[DN]["_row"] = wb.tables[DN]["_row"] + 10
    wb.tables[BD].loc[0, "gv_cot_can"] = 99
    wb.tables[TL].loc[1, "so_lop_mau_giao"] = 60
    validate_workbooks([wb], SON_LA)
    exceeds, ratio = only(wb, "exceeds_total"), only(wb, "teacher_ratio")
    assert (exceeds.sheet, exceeds.row_number, exceeds.column_key) == (WRITTEN[BD], FIRST_ROW, "gv_cot_can")
    assert f"ở biểu '{WRITTEN[DN]}' (dòng {FIRST_ROW + 10}) = 18" in exceeds.message
    assert (ratio.sheet, ratio.row_number) == (WRITTEN[DN], FIRST_ROW + 11)
    assert f"(biểu '{WRITTEN[TL]}', dòng {FIRST_ROW + 1})" in ratio.message


def test_rank_iv_from_2021_2022_is_a_warning():
    wb = make_workbook(nam_hoc="2021-2022")
    wb.tables[DN].loc[6, "gv_hang_4"], wb.tables[DN].loc[6, "gv_hang_3"] = 2, 8
    validate_workbooks([wb], SON_LA)
    assert summary(wb.findings) == [("warning", "abolished_rank", WRITTEN[DN], FIRST_ROW + 6, "gv_hang_4", "2")]
    assert "2021-2022" in wb.findings[0].message


def test_duplicated_school_row():
    wb = make_workbook()
    table = wb.tables[BD]
    copy = table.iloc[[2]].assign(_row=FIRST_ROW + len(table))
    wb.tables[BD] = pd.concat([table, copy], ignore_index=True)
    validate_workbooks([wb], SON_LA)
    finding = only(wb, "duplicate_school")
    assert (finding.severity, finding.sheet, finding.row_number, finding.value) == (
        "error",
        WRITTEN[BD],
        FIRST_ROW + 12,
        "14118003",
    )
    assert "dòng 8" in finding.message.split(": ", 1)[1]
    assert len(wb.findings) == 1


def test_expected_period_mismatch():
    wb = make_workbook(ky_bao_cao="HKI")
    validate_workbooks([wb], SON_LA, expected_period=("2019-2020", "CN"))
    assert summary(wb.findings) == [
        ("error", "wrong_period", WRITTEN[TT], wb.header_rows["ky_bao_cao"], "ky_bao_cao", "HKI")
    ]


@pytest.mark.parametrize("nam_hoc", ["2091-2092", "1919-1920", "2020-2021"])
def test_a_school_year_outside_the_received_years_is_a_wrong_period(nam_hoc):
    # a typo in the school year (2091 for 2019) must be told to the district, not reach the load: the
    # warehouse holds school years 2010-2011..2035-2036 only, and a year not begun yet has nothing to report
    wb = make_workbook()
    wb.header["nam_hoc"] = nam_hoc
    validate_workbooks([wb], SON_LA, today=dt.date(2020, 6, 10))  # during 2019-2020
    found = [f for f in wb.findings if f.rule == "wrong_period"]
    assert summary(found) == [("error", "wrong_period", WRITTEN[TT], wb.header_rows["nam_hoc"], "nam_hoc", nam_hoc)]
    assert f"'Năm học' = '{nam_hoc}'" in found[0].message and "2019-2020" in found[0].message


def test_the_running_school_year_and_earlier_ones_are_received():
    running, earlier = make_workbook(nam_hoc="2019-2020"), make_workbook(nam_hoc="2010-2011")
    validate_workbooks([running, earlier], SON_LA, today=dt.date(2019, 9, 5))
    assert [f for f in running.findings + earlier.findings if f.rule == "wrong_period"] == []


class TestEvaluationSheet:
    def test_absent_in_cn_is_an_error_unless_the_reader_said_so(self):
        absent, reported = make_workbook(), make_workbook()
        for wb in (absent, reported):
            del wb.tables[DG], wb.sheet_names[DG]
        reported.findings.append(
            Finding("error", "missing_sheet", "Thiếu trang tính bắt buộc 'DanhGiaChuan' (kỳ báo cáo CN).")
        )
        validate_workbooks([absent, reported], SON_LA)
        assert summary(absent.findings) == [("error", "missing_sheet", "DanhGiaChuan", None, None, None)]
        assert len(reported.findings) == 1

    def test_empty_in_cn_is_an_error(self):
        wb = make_workbook()
        wb.tables[DG] = wb.tables[DG].iloc[0:0]
        validate_workbooks([wb], SON_LA)
        assert summary(wb.findings) == [("error", "missing_sheet", WRITTEN[DG], None, None, None)]

    def test_empty_or_absent_in_hki_is_fine(self):
        empty, absent = make_workbook(ky_bao_cao="HKI"), make_workbook(ky_bao_cao="HKI")
        empty.tables[DG] = empty.tables[DG].iloc[0:0]
        del absent.tables[DG]
        validate_workbooks([empty, absent], SON_LA)
        assert empty.findings == [] and absent.findings == []


class TestCompletenessAgainstTheRegistry:
    """Sơn La 2020-2021: three schools closed (14119031, 14120019, 14122022) and two opened (14116026, 14125031)."""

    def test_registry_changes_of_2020_2021(self):
        closed = [s["ma_truong"] for s in SON_LA.schools if s["dong_tu_nam_hoc"] == "2020-2021"]
        opened = [s["ma_truong"] for s in SON_LA.schools if s["mo_tu_nam_hoc"] == "2020-2021"]
        assert (len(closed), len(opened)) == (3, 2)

    def test_a_closed_school_is_not_expected(self):
        wb = make_workbook("119", "2020-2021")
        assert "14119031" not in set(wb.tables[TL]["ma_truong"])
        validate_workbooks([wb], SON_LA)
        assert wb.findings == []

    def test_the_same_school_is_expected_the_year_before(self):
        wb = make_workbook("119", "2019-2020")
        for sheet in (TL, DN):
            wb.tables[sheet] = wb.tables[sheet][wb.tables[sheet]["ma_truong"] != "14119031"]
        validate_workbooks([wb], SON_LA)
        assert summary(wb.findings) == [
            ("error", "missing_school", WRITTEN[TL], None, "ma_truong", "14119031"),
            ("error", "missing_school", WRITTEN[DN], None, "ma_truong", "14119031"),
        ]
        assert "Trường Mầm non Hoa Mai" in wb.findings[0].message

    def test_a_closed_school_reported_is_unknown_that_year(self):
        wb = make_workbook("119", "2020-2021")
        extra = wb.tables[TL].iloc[[0]].assign(ma_truong="14119031", ten_truong="Trường Mầm non Hoa Mai", _row=99)
        wb.tables[TL] = pd.concat([wb.tables[TL], extra], ignore_index=True)
        validate_workbooks([wb], SON_LA)
        finding = only(wb, "unknown_school")
        assert (finding.row_number, finding.value) == (99, "14119031")
        assert "đóng hoặc sáp nhập từ năm học 2020-2021" in finding.message
        assert len(wb.findings) == 1

    def test_a_school_reported_before_it_opens_is_told_so(self):
        # 14116026 opens in 2020-2021: the clerk must not read that it was closed or merged
        wb = make_workbook("116", "2019-2020")
        extra = wb.tables[DN].iloc[[0]].assign(ma_truong="14116026", ten_truong="Trường Mầm non Hoa Sữa", _row=99)
        wb.tables[DN] = pd.concat([wb.tables[DN], extra], ignore_index=True)
        validate_workbooks([wb], SON_LA)
        finding = only(wb, "unknown_school")
        assert (finding.row_number, finding.value) == (99, "14116026")
        assert "mở từ năm học 2020-2021" in finding.message and "chưa mở" in finding.message
        assert "đã đóng hoặc sáp nhập thì" not in finding.message

    def test_a_new_school_is_expected_from_its_first_year_only(self):
        before, after = make_workbook("116", "2019-2020"), make_workbook("116", "2020-2021")
        assert "14116026" in set(after.tables[TL]["ma_truong"])
        for sheet in (TL, DN):
            after.tables[sheet] = after.tables[sheet][after.tables[sheet]["ma_truong"] != "14116026"]
        validate_workbooks([before, after], SON_LA)
        assert before.findings == []
        assert {(f.rule, f.value) for f in after.findings} == {("missing_school", "14116026")}
        assert len(after.findings) == 2  # TruongLop and DoiNgu


def test_a_sheet_without_its_school_code_column_is_not_told_as_missing_every_school():
    # the reader reports the missing column (missing_column 'Mã trường'); the schools are there, only
    # their codes cannot be read, so "thiếu trường" for each of them would send the clerk looking for rows
    wb, other = make_workbook(), make_workbook()
    wb.tables[DN] = wb.tables[DN].drop(columns=["ma_truong"]).iloc[0:0]  # as read: no row without a code
    validate_workbooks([wb, other], SON_LA)
    assert [f for f in wb.findings if f.rule == "missing_school"] == []
    assert other.findings == []


def test_unreadable_and_sheetless_workbooks_in_a_batch():
    unreadable = ParsedWorkbook(file_name="hong.xlsx", findings=[Finding("error", "unreadable_file", "...")])
    header_only, broken = make_workbook(ky_bao_cao="HKI"), make_workbook()
    header_only.tables, header_only.sheet_names = {}, {TT: WRITTEN[TT]}
    broken.tables[DN].loc[0, "gv_bien_che"] = 30
    validate_workbooks([unreadable, header_only, broken], SON_LA)
    assert len(unreadable.findings) == 1
    assert header_only.findings == []  # missing sheets are the reader's to report; nothing to compare
    assert [(f.rule, f.row_number) for f in broken.findings] == [("exceeds_total", FIRST_ROW)]


@pytest.mark.skipif(not SAMPLES.exists(), reason="shared samples not beside the project")
def test_the_shared_samples_pass_every_rule():
    """The five sample submissions are valid for the Sơn La registry: read, then validated, nothing is added."""
    paths = sorted(SAMPLES.glob("*.xlsx")) + sorted(SAMPLES.glob("*.zip"))
    workbooks = [read_workbook(p) for p in paths]
    before = [list(wb.findings) for wb in workbooks]
    validate_workbooks(workbooks, SON_LA)
    assert len(paths) == 5
    assert [wb.findings for wb in workbooks] == before


def test_every_expectation_carries_its_rule_as_data():
    labels = {c.key for s in load_layout().sheets.values() for c in s.columns}
    for name, suite in load_suites().items():
        for e in suite["expectations"]:
            meta = e["meta"]
            assert meta["severity"] in ("error", "warning", "info"), (name, e)
            assert meta["rule"] and meta["why"] and meta["message"], (name, e)
            assert meta["column"] in labels, (name, meta["column"])
            for key in re.findall(r"\{L\[(\w+)\]\}", meta["message"]):
                assert key in labels or key.split("__", 1)[-1] in labels, (name, key)


def test_rules_table_covers_every_emitted_code():
    codes = {r["rule"] for r in rules_table()}
    emitted = {e[1] for _, rows in CASES.values() for e in rows} | {
        "abolished_rank",
        "duplicate_school",
        "missing_sheet",
    }
    assert emitted <= codes
    assert {"yoy_change", "outlier"} <= codes


def test_rules_doc_is_not_stale():
    assert RULES_DOC.read_text(encoding="utf-8") == render_rules_doc(), (
        "docs/rules.md is stale: run `python -c 'from etl.validate import write_rules_doc; write_rules_doc()'`"
    )
