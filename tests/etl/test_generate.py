"""Demo and baseline workbooks (etl/generate.py), read back with openpyxl and checked against the template's rules."""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.config import PROJECT_ROOT, ProvinceConfig
from etl.generate import (
    SON_LA_2019_BASELINE,
    allocate,
    generate_baseline_province,
    generate_district_workbook,
    generate_province,
)
from etl.layout import load_layout

LAYOUT = load_layout()
YEARS = [f"{y}-{y + 1}" for y in range(2018, 2026)]
TD = ("duoi_trung_cap", "trung_cap", "cao_dang", "dai_hoc", "sau_dai_hoc")
LEVELS = ("tot", "kha", "dat", "chua_dat")
# The template's rules (submission-template.md), written out here so the test checks them independently.
SUM_RULES = [
    ("cbql_tong", [f"cbql_td_{k}" for k in TD]),
    ("gv_tong", [f"gv_td_{k}" for k in TD]),
    ("gv_tong", ["gv_hang_1", "gv_hang_2", "gv_hang_3", "gv_hang_4", "gv_chua_xep_hang"]),
    ("gv_duoc_danh_gia", [f"gv_{k}" for k in LEVELS]),
    ("cbql_duoc_danh_gia", [f"cbql_{k}" for k in LEVELS]),
]
LE_RULES = [
    ("so_lop_5_tuoi", ["so_lop_mau_giao"]),
    ("tre_5_tuoi", ["tre_mau_giao"]),
    ("cbql_bien_che", ["cbql_tong"]),
    ("cbql_dang_vien", ["cbql_tong"]),
    ("gv_bien_che", ["gv_tong"]),
    ("gv_duoc_danh_gia", ["gv_tong"]),
    ("cbql_duoc_danh_gia", ["cbql_tong"]),
    ("cot_can_bd_ho_tro", ["gv_cot_can", "cbql_cot_can"]),
    ("gv_bo_nhiem_hang", ["gv_tong"]),
    ("gv_bo_nhiem_hang_co_cc", ["gv_bo_nhiem_hang"]),
    ("cbql_bo_nhiem", ["cbql_tong"]),
    ("cbql_bo_nhiem_co_cc", ["cbql_bo_nhiem"]),
] + [
    (f"{who}_{what}", [f"{who}_tong"])
    for who in ("gv", "cbql")
    for what in ("cot_can", "bd_theo_chuan", "hoan_thanh_bdtx", "tin_hoc", "ngoai_ngu", "llct")
]
HEADLINE = ["so_nhom_tre", "so_lop_mau_giao", "tre_nha_tre", "tre_mau_giao", "tre_5_tuoi", "cbql_tong", "gv_tong",
            "nv_tong"]
RANK_COLUMNS = {"gv_hang_1", "gv_hang_2", "gv_hang_3", "gv_hang_4", "gv_chua_xep_hang"}


@pytest.fixture(scope="module")
def son_la() -> ProvinceConfig:
    return ProvinceConfig(PROJECT_ROOT / "config" / "provinces" / "son-la")


# ---------------------------------------------------------------- reading back

def enum_key(enum: str, written: object) -> object:
    """The enumeration key of a written label (`Công lập` -> `cong_lap`)."""
    for key, forms in LAYOUT.enums[enum].items():
        if written in forms:
            return key
    return written


@cache
def read_workbook(path: Path) -> tuple[dict[str, object], dict[str, list[dict[str, object]]]]:
    """ThongTin by key, and the rows of every table sheet by key (row 3 holds the keys). Cached: the
    module-scoped workbooks are read by several tests, which must not change what they get."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    by_label = {c.label_vi: c.key for c in LAYOUT.sheets["ThongTin"].columns}
    header = {by_label[a]: b for a, b, *_ in wb["ThongTin"].iter_rows(values_only=True)}
    header["ky_bao_cao"] = enum_key("ky_bao_cao", header["ky_bao_cao"])
    tables = {}
    for sheet in LAYOUT.table_sheets:
        rows = list(wb[sheet.name].iter_rows(values_only=True))
        assert list(rows[1]) == [c.label_vi for c in sheet.columns], sheet.name
        assert list(rows[2]) == sheet.keys, sheet.name
        tables[sheet.name] = [dict(zip(sheet.keys, r, strict=True)) for r in rows[3:] if r[0] is not None]
    wb.close()
    for row in tables["TruongLop"]:
        row["loai_hinh"] = enum_key("loai_hinh", row["loai_hinh"])
    for row in tables["LopBoiDuong"]:
        row["hinh_thuc"] = enum_key("hinh_thuc", row["hinh_thuc"])
        row["nguon_kinh_phi"] = enum_key("nguon_kinh_phi", row["nguon_kinh_phi"])
    return header, tables


def merged_schools(tables: dict[str, list[dict[str, object]]]) -> dict[str, dict[str, object]]:
    """Every school's values over the school sheets (an empty DanhGiaChuan contributes nothing)."""
    schools: dict[str, dict[str, object]] = {}
    for sheet in LAYOUT.school_sheets:
        for row in tables[sheet.name]:
            schools.setdefault(row["ma_truong"], {}).update(row)
    return schools


def count_columns() -> list[str]:
    return [k for s in LAYOUT.school_sheets for k in s.count_keys if k not in ("ma_truong",)]


def district_totals(path: Path) -> dict[str, int]:
    _, tables = read_workbook(path)
    schools = merged_schools(tables).values()
    return {k: sum(int(s.get(k) or 0) for s in schools) for k in dict.fromkeys(count_columns())}


def rule_violations(path: Path, open_codes: Iterable[str]) -> list[str]:
    """Every broken rule of the template in a workbook, as readable strings (empty: all hold)."""
    header, tables = read_workbook(path)
    problems = []
    nam_hoc, ky = header["nam_hoc"], header["ky_bao_cao"]
    expected = sorted(open_codes)
    for sheet in LAYOUT.school_sheets:
        codes = [r["ma_truong"] for r in tables[sheet.name]]
        if sheet.name == "DanhGiaChuan" and ky == "HKI" and not codes:
            continue
        if sorted(codes) != expected:
            problems.append(f"{sheet.name}: schools {sorted(codes)} != registry {expected}")
    for code, s in merged_schools(tables).items():
        counts = {k: v for k, v in s.items() if k in count_columns()}
        if not all(isinstance(v, int) and v >= 0 for v in counts.values()):
            problems.append(f"{code}: a count is not a whole number ≥ 0: {counts}")
            continue
        for whole, parts in SUM_RULES:
            if whole in s and sum(s[p] for p in parts) != s[whole]:
                problems.append(f"{code}: {parts} do not add up to {whole}")
        for small, bounds in LE_RULES:
            if small in s and s[small] > sum(s[b] for b in bounds):
                problems.append(f"{code}: {small} > {bounds}")
        for children, classes in (("tre_nha_tre", "so_nhom_tre"), ("tre_mau_giao", "so_lop_mau_giao"),
                                  ("tre_5_tuoi", "so_lop_5_tuoi")):
            ok = s[children] == 0 if s[classes] == 0 else 5 <= s[children] / s[classes] <= 45
            if not ok:
                problems.append(f"{code}: {children} per {classes} out of 5..45")
        groups = s["so_nhom_tre"] + s["so_lop_mau_giao"]
        if not (5 <= (s["tre_nha_tre"] + s["tre_mau_giao"]) / groups <= 45 and 0.5 <= s["gv_tong"] / groups <= 4):
            problems.append(f"{code}: children or teachers per class out of range")
        if nam_hoc >= "2021-2022" and s["gv_hang_4"]:
            problems.append(f"{code}: rank IV teachers in {nam_hoc}")
        if s["dat_chuan_qg"] not in (0, 1) or s["loai_hinh"] not in LAYOUT.enums["loai_hinh"]:
            problems.append(f"{code}: flag or school type not valid")
    pops = (header["dan_so_0_2"], header["dan_so_3_5"], header["dan_so_5"])
    schools = merged_schools(tables).values()
    enrolled = [sum(s[k] for s in schools) for k in ("tre_nha_tre", "tre_mau_giao", "tre_5_tuoi")]
    if not (pops[2] <= pops[1] and 0.1 <= enrolled[0] / pops[0] <= 0.45 and 0.9 <= enrolled[1] / pops[1] <= 1
            and 0.95 <= enrolled[2] / pops[2] <= 1):
        problems.append(f"populations {pops} implausible for enrolment {enrolled}")
    for course in tables["LopBoiDuong"]:
        if not (course["so_hoc_vien"] >= 1 and 0 <= course["so_hoan_thanh"] <= course["so_hoc_vien"]
                and course["kinh_phi"] >= 0 and course["hinh_thuc"] in LAYOUT.enums["hinh_thuc"]
                and course["nguon_kinh_phi"] in LAYOUT.enums["nguon_kinh_phi"]):
            problems.append(f"course not valid: {course}")
    return problems


def rounded(value: Fraction, decimals: int) -> Decimal:
    """Half-up rounding of an exact ratio, as published figures are rounded."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def province_totals(paths: Iterable[Path]) -> dict[str, Fraction]:
    """Column sums over every workbook, and the baseline's indicators as exact ratios of sums."""
    t: dict[str, int] = {"so_truong": 0, "dan_so_0_2": 0, "dan_so_3_5": 0, "dan_so_5": 0}
    for path in paths:
        header, tables = read_workbook(path)
        for key in ("dan_so_0_2", "dan_so_3_5", "dan_so_5"):
            t[key] += header[key]
        schools = merged_schools(tables)
        t["so_truong"] += len(schools)
        t["cong_lap"] = t.get("cong_lap", 0) + sum(s["loai_hinh"] == "cong_lap" for s in schools.values())
        for key in count_columns():
            t[key] = t.get(key, 0) + sum(s[key] for s in schools.values())
    staff = t["gv_tong"] + t["cbql_tong"]
    lop = t["so_nhom_tre"] + t["so_lop_mau_giao"]
    pct = lambda num, den: Fraction(100 * num, den)  # noqa: E731
    out = {k: Fraction(v) for k, v in t.items()}
    out |= {
        "so_nhom_lop": Fraction(lop),
        "tong_tre": Fraction(t["tre_nha_tre"] + t["tre_mau_giao"]),
        "huy_dong_nha_tre": pct(t["tre_nha_tre"], t["dan_so_0_2"]),
        "huy_dong_mau_giao": pct(t["tre_mau_giao"], t["dan_so_3_5"]),
        "huy_dong_5_tuoi": pct(t["tre_5_tuoi"], t["dan_so_5"]),
        "gv_tren_lop": Fraction(t["gv_tong"], lop),
        "bien_che": pct(t["gv_bien_che"] + t["cbql_bien_che"], staff),
        "ngoai_ngu": pct(t["gv_ngoai_ngu"] + t["cbql_ngoai_ngu"], staff),
        "tin_hoc": pct(t["gv_tin_hoc"] + t["cbql_tin_hoc"], staff),
        "cbql_tren_chuan_td": pct(sum(t[f"cbql_td_{k}"] for k in TD[2:]), t["cbql_tong"]),
        "gv_tren_chuan_td": pct(sum(t[f"gv_td_{k}"] for k in TD[2:]), t["gv_tong"]),
    }
    for who in ("gv", "cbql"):
        for level in LEVELS:
            out[f"{who}_{level}"] = pct(t[f"{who}_{level}"], t[f"{who}_duoc_danh_gia"])
    for rank in ("gv_hang_2", "gv_hang_3", "gv_hang_4", "gv_chua_xep_hang"):
        out[rank] = pct(t[rank], t["gv_tong"])
    return out


# ---------------------------------------------------------------- fixtures: one generation, many checks

@pytest.fixture(scope="module")
def cn_years(son_la: ProvinceConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """CN workbooks of every district for every school year 2018-2019..2025-2026."""
    out = tmp_path_factory.mktemp("cn")
    return {year: generate_province(son_la, year, "CN", out / year) for year in YEARS}


@pytest.fixture(scope="module")
def baseline(son_la: ProvinceConfig, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_baseline_province(son_la, tmp_path_factory.mktemp("baseline"))


# ---------------------------------------------------------------- allocation

@given(
    st.lists(st.tuples(st.floats(0, 100), st.integers(0, 50)), min_size=1, max_size=30),
    st.floats(0, 1),
)
def test_allocate_places_the_total_within_the_caps(entries: list[tuple[float, int]], fill: float) -> None:
    weights, caps = zip(*entries, strict=True)
    total = int(sum(caps) * fill)
    out = allocate(total, weights, caps)
    assert sum(out) == total
    assert all(0 <= v <= cap for v, cap in zip(out, caps, strict=True))


def test_allocate_is_proportional_and_refuses_too_much() -> None:
    assert allocate(10, [1, 1, 2], [10, 10, 10]) == [3, 2, 5]
    assert allocate(10, [1, 0, 0], [4, 3, 10]) == [4, 1, 5]  # the rest goes by the room left
    with pytest.raises(ValueError):
        allocate(5, [1, 1], [2, 2])


# ---------------------------------------------------------------- demo workbooks

def test_same_arguments_give_the_same_bytes(son_la: ProvinceConfig, tmp_path: Path) -> None:
    a = generate_district_workbook(son_la, "119", "2020-2021", "CN", tmp_path / "a.xlsx", seed=3)
    b = generate_district_workbook(son_la, "119", "2020-2021", "CN", tmp_path / "b.xlsx", seed=3)
    c = generate_district_workbook(son_la, "119", "2020-2021", "CN", tmp_path / "c.xlsx", seed=4)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_a_school_has_the_same_numbers_whichever_call_makes_it(son_la: ProvinceConfig, tmp_path: Path) -> None:
    alone = generate_district_workbook(son_la, "127", "2022-2023", "HKI", tmp_path / "alone.xlsx")
    [in_province] = generate_province(son_la, "2022-2023", "HKI", tmp_path / "all", districts=["127"])
    assert in_province.name == "127_2022-2023_HKI.xlsx"
    assert alone.read_bytes() == in_province.read_bytes()


@pytest.mark.parametrize("nam_hoc", ["2018-2019", "2020-2021", "2021-2022", "2025-2026"])
@pytest.mark.parametrize("ky", ["HKI", "CN"])
def test_every_rule_holds_in_every_school(son_la: ProvinceConfig, tmp_path: Path, nam_hoc: str, ky: str) -> None:
    paths = generate_province(son_la, nam_hoc, ky, tmp_path)
    assert len(paths) == 12
    for path, district in zip(paths, son_la.districts, strict=True):
        header, _ = read_workbook(path)
        assert (header["phien_ban"], header["ma_don_vi"], header["nam_hoc"], header["ky_bao_cao"]) == (
            "DA33-MN-v1", district["ma_don_vi"], nam_hoc, ky)
        assert header["ten_don_vi"] == district["ten_don_vi"] and header["nguoi_lap"]
        assert header["ngay_lap"].date() <= son_la.deadline(nam_hoc, ky)
        open_codes = [s["ma_truong"] for s in son_la.open_schools(district["ma_don_vi"], nam_hoc)]
        assert rule_violations(path, open_codes) == [], path.name


def test_closed_schools_leave_and_opened_schools_join_in_2020_2021(cn_years: dict[str, list[Path]]) -> None:
    def codes(year: str) -> set[str]:
        return {code for p in cn_years[year] for code in merged_schools(read_workbook(p)[1])}

    before, after = codes("2019-2020"), codes("2020-2021")
    assert (len(before), len(after)) == (228, 227)
    assert before - after == {"14119031", "14120019", "14122022"}
    assert after - before == {"14116026", "14125031"}


def test_hki_has_the_cn_schools_and_staff_and_a_few_fewer_children(son_la: ProvinceConfig, tmp_path: Path) -> None:
    hki = district_totals(generate_district_workbook(son_la, "125", "2023-2024", "HKI", tmp_path / "h.xlsx"))
    cn = district_totals(generate_district_workbook(son_la, "125", "2023-2024", "CN", tmp_path / "c.xlsx"))
    for key in ("so_nhom_tre", "so_lop_mau_giao", "cbql_tong", "gv_tong", "nv_tong", "gv_bien_che"):
        assert hki[key] == cn[key], key
    for key in ("tre_nha_tre", "tre_mau_giao", "tre_5_tuoi"):
        assert 0.96 * cn[key] <= hki[key] <= cn[key], key
    assert hki["gv_duoc_danh_gia"] == 0 < cn["gv_duoc_danh_gia"]  # rated at the end of the year


def test_district_totals_change_little_from_year_to_year(cn_years: dict[str, list[Path]]) -> None:
    """Headline totals move by at most 15 %, and no column with a total of 20 or more by 30 % (the
    yoy_change threshold); the rank columns are exempt in 2021-2022, when rank IV was abolished."""
    totals = {year: [district_totals(p) for p in paths] for year, paths in cn_years.items()}
    for previous, year in zip(YEARS, YEARS[1:], strict=False):
        for before, after in zip(totals[previous], totals[year], strict=True):
            for key, old in before.items():
                change = abs(after[key] - old) / old if old else 0
                if key in HEADLINE:
                    assert change <= 0.15, (year, key, old, after[key])
                elif old >= 20 and not (year == "2021-2022" and key in RANK_COLUMNS):
                    assert change <= 0.30, (year, key, old, after[key])


def test_the_trends_run_the_right_way(cn_years: dict[str, list[Path]]) -> None:
    first = province_totals(cn_years["2018-2019"])
    last = province_totals(cn_years["2025-2026"])
    for key in ("gv_tren_chuan_td", "cbql_tren_chuan_td", "tin_hoc", "ngoai_ngu", "gv_tot", "huy_dong_nha_tre"):
        assert last[key] > first[key], key
    assert last["gv_hang_4"] == 0 < first["gv_hang_4"]
    assert 1.2 <= first["gv_tren_lop"] <= 1.45 and 1.2 <= last["gv_tren_lop"] <= 1.5
    for key, low, high in (("huy_dong_nha_tre", 15, 22), ("huy_dong_mau_giao", 94, 98.5), ("huy_dong_5_tuoi", 98, 100),
                           ("gv_tot", 38, 45), ("gv_kha", 44, 50)):
        assert low <= first[key] <= high, key


def test_generating_a_province_is_fast(son_la: ProvinceConfig, tmp_path: Path) -> None:
    start = time.perf_counter()
    generate_province(son_la, "2024-2025", "CN", tmp_path)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    ("ma_don_vi", "nam_hoc", "ky"),
    [("999", "2019-2020", "CN"), ("116", "2019-2021", "CN"), ("116", "2019-2020", "HK2")],
)
def test_bad_arguments_raise(son_la: ProvinceConfig, tmp_path: Path, ma_don_vi: str, nam_hoc: str, ky: str) -> None:
    with pytest.raises(ValueError):
        generate_district_workbook(son_la, ma_don_vi, nam_hoc, ky, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


# ---------------------------------------------------------------- the published baseline

def test_baseline_reproduces_every_published_figure(baseline: list[Path]) -> None:
    totals = province_totals(baseline)
    for code, (value, decimals) in SON_LA_2019_BASELINE.items():
        assert rounded(totals[code], decimals) == Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals)), code


def test_baseline_counts_are_the_published_counts(baseline: list[Path]) -> None:
    totals = province_totals(baseline)
    published = {"so_truong": 228, "cong_lap": 215, "so_nhom_tre": 465, "so_lop_mau_giao": 3131,
                 "tre_nha_tre": 10318, "tre_mau_giao": 82931, "tre_5_tuoi": 29696, "gv_hang_1": 0}
    assert {k: totals[k] for k in published} == published
    assert [p.name for p in baseline] == [f"{d}_2018-2019_CN.xlsx" for d in
                                          ("116", "118", "119", "120", "121", "122", "123", "124", "125", "126",
                                           "127", "128")]


def test_baseline_keeps_every_rule(son_la: ProvinceConfig, baseline: list[Path]) -> None:
    for path in baseline:
        ma_don_vi = path.name[:3]
        open_codes = [s["ma_truong"] for s in son_la.open_schools(ma_don_vi, "2018-2019")]
        assert rule_violations(path, open_codes) == [], path.name


def test_baseline_continues_into_the_2019_2020_demo(baseline: list[Path], cn_years: dict[str, list[Path]]) -> None:
    """The same limits as from one demo year to the next: the baseline's districts look like the model's."""
    for before, after in zip(baseline, cn_years["2019-2020"], strict=True):
        old, new = district_totals(before), district_totals(after)
        for key, value in old.items():
            limit = 0.15 if key in HEADLINE else 0.30 if value >= 20 else None
            if limit is not None:
                assert abs(new[key] - value) <= limit * value, (before.name, key, value, new[key])


def test_baseline_districts_differ_in_enrolment_rates(baseline: list[Path]) -> None:
    """Populations follow each district's own rates, not one province rate (which would make every rounding
    difference look like a cross-district outlier)."""
    rates = [province_totals([p])["huy_dong_nha_tre"] for p in baseline]
    assert max(rates) - min(rates) >= 3
