"""Validation speed: `validate_workbooks` (Great Expectations, batched) against plain pandas over the same rules.

Run: `python -m bench.validate_bench`. Builds ParsedWorkbook objects in memory for a province night
(12 districts x ~20 schools) and a national night (700 workbooks x 40 schools, in a synthetic
province written to a temporary folder), injects a few errors, and prints in the same run:
- the one-off cost of importing Great Expectations and building its context;
- `validate_workbooks` for the whole night (every rule: suites and registry checks);
- a plain vectorised pandas pass evaluating the same suites (expectations/*.json) on the same frames,
  whose failure count must equal the suite findings of `validate_workbooks`.
Targets (guides/performance.md): province < 3 s, national < 15 s, GX import excluded.
"""

from __future__ import annotations

import csv
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from etl.config import PROJECT_ROOT, ProvinceConfig
from etl.layout import load_layout
from etl.model import ParsedWorkbook
from etl.validate import (
    DISTRICT_CODES_PARAMETER,
    SUITES,
    _build_batch,
    _gx_runtime,
    _suite_frame,
    load_suites,
    validate_workbooks,
)

NAM_HOC = "2019-2020"
TARGETS = {"province": 3.0, "national": 15.0}


def make_workbooks(province: ProvinceConfig, schools_per_district: dict[str, list[dict]], seed: int = 7):
    """One valid CN workbook per district: every sum and <= rule holds, sizes plausible."""
    rng = np.random.default_rng(seed)
    layout = load_layout()
    names = {d["ma_don_vi"]: d["ten_don_vi"] for d in province.districts}
    workbooks = []
    for code, schools in schools_per_district.items():
        n = len(schools)
        groups, classes = rng.integers(1, 4, n), rng.integers(3, 9, n)
        gv = groups * 2 + classes * 2
        cbql = rng.integers(2, 4, n)
        gv_dh, cb_dh = gv - 3, cbql - 1
        base = {"ma_truong": [s["ma_truong"] for s in schools], "ten_truong": [s["ten_truong"] for s in schools]}
        columns = {
            "TruongLop": dict(
                loai_hinh=["cong_lap"] * n,
                dat_chuan_qg=rng.integers(0, 2, n),
                so_nhom_tre=groups,
                so_lop_mau_giao=classes,
                so_lop_5_tuoi=classes // 3,
                tre_nha_tre=groups * 18,
                tre_mau_giao=classes * 25,
                tre_5_tuoi=(classes // 3) * 25,
            ),
            "DoiNgu": dict(
                cbql_tong=cbql,
                cbql_bien_che=cbql,
                cbql_dang_vien=cbql,
                cbql_td_duoi_trung_cap=0 * n,
                cbql_td_trung_cap=0 * n,
                cbql_td_cao_dang=0 * n,
                cbql_td_dai_hoc=cb_dh,
                cbql_td_sau_dai_hoc=cbql - cb_dh,
                gv_tong=gv,
                gv_bien_che=gv - 1,
                gv_td_duoi_trung_cap=0 * n,
                gv_td_trung_cap=1 + 0 * n,
                gv_td_cao_dang=2 + 0 * n,
                gv_td_dai_hoc=gv_dh,
                gv_td_sau_dai_hoc=0 * n,
                gv_hang_1=0 * n,
                gv_hang_2=gv // 3,
                gv_hang_3=gv - gv // 3 - 1,
                gv_hang_4=0 * n,
                gv_chua_xep_hang=1 + 0 * n,
                nv_tong=rng.integers(2, 6, n),
                gv_nghi_huu=rng.integers(0, 2, n),
                gv_tuyen_moi=rng.integers(0, 3, n),
            ),
            "DanhGiaChuan": dict(
                gv_duoc_danh_gia=gv,
                gv_tot=gv // 2,
                gv_kha=gv - gv // 2 - 1,
                gv_dat=1 + 0 * n,
                gv_chua_dat=0 * n,
                cbql_duoc_danh_gia=cbql,
                cbql_tot=cbql - 1,
                cbql_kha=1 + 0 * n,
                cbql_dat=0 * n,
                cbql_chua_dat=0 * n,
            ),
            "BoiDuong": dict(
                gv_cot_can=1 + 0 * n,
                cbql_cot_can=1 + 0 * n,
                cot_can_bd_ho_tro=2 + 0 * n,
                gv_bd_theo_chuan=gv,
                cbql_bd_theo_chuan=cbql,
                gv_hoan_thanh_bdtx=gv,
                cbql_hoan_thanh_bdtx=cbql,
                gv_tin_hoc=gv // 2,
                cbql_tin_hoc=cbql,
                gv_ngoai_ngu=gv // 4,
                cbql_ngoai_ngu=cbql - 1,
                gv_llct=2 + 0 * n,
                cbql_llct=cbql,
                gv_bo_nhiem_hang=2 + 0 * n,
                gv_bo_nhiem_hang_co_cc=1 + 0 * n,
                cbql_bo_nhiem=0 * n,
                cbql_bo_nhiem_co_cc=0 * n,
            ),
        }
        tables = {sheet: _typed(pd.DataFrame({**base, **values}), sheet, layout) for sheet, values in columns.items()}
        tables["LopBoiDuong"] = _typed(
            pd.DataFrame(
                {
                    "ten_lop": ["Chính trị hè", "STEAM"],
                    "hinh_thuc": ["chinh_tri", "chuyen_mon"],
                    "so_hoc_vien": [120, 60],
                    "so_hoan_thanh": [118, 60],
                    "kinh_phi": [12.5, 8.0],
                    "nguon_kinh_phi": ["ngan_sach", "ngan_sach"],
                }
            ),
            "LopBoiDuong",
            layout,
        )
        header = dict(
            phien_ban="DA33-MN-v1",
            ma_don_vi=code,
            ten_don_vi=names[code],
            nam_hoc=NAM_HOC,
            ky_bao_cao="CN",
            nguoi_lap="Nguyễn Văn A",
            dan_so_0_2=5000,
            dan_so_3_5=6000,
            dan_so_5=2000,
        )
        workbooks.append(
            ParsedWorkbook(
                file_name=f"{code}.xlsx",
                template_version="DA33-MN-v1",
                header=header,
                header_rows={k: 2 + i for i, k in enumerate(header)},
                tables=tables,
                sheet_names={s: s for s in layout.sheets},
            )
        )
    return workbooks


def _typed(frame: pd.DataFrame, sheet: str, layout) -> pd.DataFrame:
    for c in layout.sheets[sheet].columns:
        if c.key in frame:
            frame[c.key] = frame[c.key].astype(
                {"int": "Int64", "flag": "Int64", "decimal": "float64"}.get(c.type, "str")
            )
    frame["_row"] = np.arange(6, 6 + len(frame))
    return frame


def inject_errors(workbooks: list[ParsedWorkbook]) -> None:
    """Six broken rows, one unknown and one missing school, spread over the night."""
    step = max(1, len(workbooks) // 6)
    picks = workbooks[::step][:6]
    picks[0].tables["DoiNgu"].loc[0, "gv_tong"] += 5  # sum_mismatch x2, teacher ratio may follow
    picks[1].tables["DanhGiaChuan"].loc[1, "gv_tot"] += 1  # sum_mismatch
    picks[2].tables["BoiDuong"].loc[2, "gv_tin_hoc"] = 999  # exceeds_total (cross sheet)
    picks[3].tables["TruongLop"].loc[0, "so_nhom_tre"] = 0  # class_size
    picks[4].tables["TruongLop"].loc[1, "ma_truong"] = "99999999"  # unknown_school + missing_school
    picks[5].header["dan_so_5"] = 9000  # exceeds_total in ThongTin


def synthetic_province(folder: Path, districts: int, schools: int) -> tuple[ProvinceConfig, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "province.yaml").write_text(
        yaml.safe_dump({"slug": "bench", "ma_tinh": "99", "yoy_change_threshold": 0.3})
    )
    codes = [f"{100 + i:03d}" for i in range(districts)]
    with open(folder / "districts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["ma_don_vi", "ten_don_vi", "email"])
        w.writerows([c, f"Phòng GD&ĐT huyện Số {c}", f"pgd{c}@example.org"] for c in codes)
    per_district = {
        c: [{"ma_truong": f"99{c}{k:03d}", "ten_truong": f"Trường Mầm non Số {k}"} for k in range(1, schools + 1)]
        for c in codes
    }
    with open(folder / "schools.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["ma_truong", "ten_truong", "ma_don_vi", "loai_hinh", "mo_tu_nam_hoc", "dong_tu_nam_hoc"])
        w.writerows(
            [s["ma_truong"], s["ten_truong"], c, "cong_lap", "2010-2011", ""]
            for c, ss in per_district.items()
            for s in ss
        )
    return ProvinceConfig(folder), per_district


def pandas_pass(workbooks: list[ParsedWorkbook], district_codes: list[str]) -> int:
    """The suites' expectations evaluated as plain pandas masks on the same frames: the number of failing rows."""
    batch = _build_batch(workbooks)
    parameters = {DISTRICT_CODES_PARAMETER: district_codes}
    failures = 0
    for name in SUITES:
        frame = _suite_frame(batch, load_suites()[name])
        if frame is not None:
            failures += sum(int(_failing(frame, e, parameters).sum()) for e in load_suites()[name]["expectations"])
    return failures


def _failing(df: pd.DataFrame, expectation: dict, parameters: dict) -> pd.Series:
    kw = expectation["kwargs"]
    kind = expectation["type"]
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = df[kw["column_A"]], df[kw["column_B"]]
        return a.notna() & b.notna() & ~(a >= b)
    if kind == "expect_multicolumn_sum_to_equal":
        parts = df[kw["column_list"]]
        return parts.notna().all(axis=1) & (parts.sum(axis=1) != kw["sum_total"])
    v = df[kw["column"]]
    mask = v.notna()
    if "row_condition" in kw:
        mask &= df.eval(kw["row_condition"])
    if kind == "expect_column_values_to_be_between":
        low, high = kw.get("min_value", -np.inf), kw.get("max_value", np.inf)
        return mask & ((v < low) | (v > high))
    if kind in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        values = kw["value_set"]
        values = parameters[values["$PARAMETER"]] if isinstance(values, dict) else values
        inside = v.isin(values)
        return mask & (~inside if kind.endswith("to_be_in_set") and "not" not in kind else inside)
    if kind == "expect_column_values_to_match_regex":
        return mask & ~v.astype("str").str.contains(re.compile(kw["regex"]))
    raise ValueError(f"no pandas form for {kind}")


def run(label: str, province: ProvinceConfig, per_district: dict) -> None:
    workbooks = make_workbooks(province, per_district)
    inject_errors(workbooks)
    rows = sum(len(t) for wb in workbooks for t in wb.tables.values())
    t0 = time.perf_counter()
    validate_workbooks(workbooks, province)
    gx_time = time.perf_counter() - t0
    suite_rules = {e["meta"]["rule"] for s in load_suites().values() for e in s["expectations"]}
    found = Counter(f.rule for wb in workbooks for f in wb.findings)
    suite_findings = sum(n for rule, n in found.items() if rule in suite_rules)

    fresh = make_workbooks(province, per_district)
    inject_errors(fresh)
    t0 = time.perf_counter()
    pandas_failures = pandas_pass(fresh, sorted(per_district))
    pandas_time = time.perf_counter() - t0
    verdict = "ok" if gx_time < TARGETS[label] else "OVER TARGET"
    print(f"{label}: {len(workbooks)} workbooks, {rows} rows")
    print(f"  validate_workbooks (GX, all rules): {gx_time:6.2f} s  target < {TARGETS[label]:.0f} s: {verdict}")
    print(f"  plain pandas, same suites:          {pandas_time:6.2f} s")
    print(f"  findings: {dict(sorted(found.items()))}")
    agree = "agree" if pandas_failures == suite_findings else "DISAGREE"
    print(f"  suite failures: GX {suite_findings}, pandas {pandas_failures} ({agree})")


def main() -> None:
    t0 = time.perf_counter()
    _gx_runtime()
    print(f"one-off: import Great Expectations and build the context: {time.perf_counter() - t0:.2f} s")
    son_la = ProvinceConfig(PROJECT_ROOT / "config" / "provinces" / "son-la")
    province_night = {d["ma_don_vi"]: son_la.open_schools(d["ma_don_vi"], NAM_HOC) for d in son_la.districts}
    run("province", son_la, province_night)
    with tempfile.TemporaryDirectory(prefix="tonghop-bench-") as tmp:
        national, per_district = synthetic_province(Path(tmp) / "national", districts=700, schools=40)
        run("national", national, per_district)


if __name__ == "__main__":
    main()
