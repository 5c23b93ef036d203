"""Report files the Sở sends to UBND and the Ministry: annual (one school year) and per plan phase.

The figures come from the marts only, so a report always matches what analysts query. Values are
shown rounded (2 decimals for % and ratios); the marts and the CSV files keep them unrounded.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import xlsxwriter

from etl.alerts import EXPECTED_DISTRICT
from etl.config import ProvinceConfig

STATUS_VI = {"on_time": "Đúng hạn", "late": "Muộn", "missing": "Chưa nộp", "rejected": "Bị từ chối"}
MET_VI = {True: "Đạt", False: "Chưa đạt"}
# the standard in force (indicators.md) as the report's readers say it; the marts keep the codes
DEFINITION_VI = {
    "trung_cap_tro_len": "từ trung cấp trở lên",
    "cao_dang_tro_len": "từ cao đẳng trở lên",
    "dai_hoc_tro_len": "từ đại học trở lên",
}


# Every text as text: xlsxwriter's write() makes a formula of a text beginning with `=` and a link of one that
# looks like an address, and a name in the registry (typed, or exported from a spreadsheet) is no formula.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}


def _assessment(met: object, nam_hoc: str, target_nam_hoc: str | None) -> str:
    """The annual report's "Đánh giá": a year before its target's year is judged as progress, not as a target
    missed (the marts compare every year with the target of its phase, due at the phase's end)."""
    if met is None or pd.isna(met):
        return ""
    if target_nam_hoc and target_nam_hoc > nam_hoc:
        return (f"Đã đạt mức mục tiêu (hạn {target_nam_hoc})" if met
                else f"Chưa đến hạn ({target_nam_hoc}); chưa đạt mức mục tiêu")
    return MET_VI[bool(met)]


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _display(value: object, unit: str) -> object:
    """A value as the report files show it. Percentages to two decimals: one manager of 665 not meeting the
    standard is 0.15 % (indicators.md, the Sơn La baseline: "a correct roll-up shows 0.15"), which one decimal
    would show as 0.2, neither the seed's figure nor the true one; the CSV files keep the exact values."""
    if value is None or pd.isna(value):
        return "không có dữ liệu"
    digits = {"percent": 2, "ratio": 2}.get(unit, 1)
    rounded = round(float(value), digits)
    return int(rounded) if unit == "count" and rounded == int(rounded) else rounded


def province_indicators(engine: sa.Engine, nam_hoc: str, ky_bao_cao: str = "CN") -> pd.DataFrame:
    query = sa.text(
        "select i.indicator, i.label_vi, i.unit, p.numerator, p.denominator, p.value, p.target, "
        "p.target_nam_hoc, p.met, p.definition from mart.province_indicator p "
        "join core.indicator i using (indicator) where p.nam_hoc = :nam_hoc and p.ky_bao_cao = :ky "
        "order by i.indicator"
    )
    with engine.connect() as c:
        return pd.read_sql(query, c, params={"nam_hoc": nam_hoc, "ky": ky_bao_cao})


def district_values(engine: sa.Engine, nam_hoc: str, ky_bao_cao: str = "CN") -> pd.DataFrame:
    query = sa.text(
        "select d.ma_don_vi, d.ten_don_vi, di.indicator, di.value from mart.district_indicator di "
        "join core.district d using (ma_don_vi) where di.nam_hoc = :nam_hoc and di.ky_bao_cao = :ky"
    )
    with engine.connect() as c:
        return pd.read_sql(query, c, params={"nam_hoc": nam_hoc, "ky": ky_bao_cao})


def reporting_status(engine: sa.Engine, nam_hoc: str) -> pd.DataFrame:
    query = sa.text(
        "select r.ma_don_vi, d.ten_don_vi, r.ky_bao_cao, r.deadline, r.status, r.submission_id "
        "from mart.reporting_status r join core.district d using (ma_don_vi) where r.nam_hoc = :nam_hoc "
        "order by r.ky_bao_cao, r.ma_don_vi"
    )
    with engine.connect() as c:
        return pd.read_sql(query, c, params={"nam_hoc": nam_hoc})


# why a district expected in a period is not in its province figures, as the report's readers say it
ABSENT_VI = {"missing": "chưa nộp", "rejected": "chỉ có tệp bị từ chối",
             "held": "tệp gửi sau khi khóa sổ, chưa mở khóa", None: "chưa nộp, chưa đến hạn"}


def coverage(engine: sa.Engine, nam_hoc: str, ky_bao_cao: str = "CN") -> pd.DataFrame:
    """The districts expected to report a period (a registry school open that school year), each with
    whether its figures are in the marts (`included`) and, if not, why (`absent`: a key of ABSENT_VI). The
    province figures are sums over the included districts only, so a report says who is left out."""
    query = sa.text(
        "select d.ma_don_vi, d.ten_don_vi, s.ma_don_vi is not null as included, "
        "case when exists (select from dq.submission h where h.ma_don_vi = d.ma_don_vi and h.nam_hoc = :y "
        "and h.ky_bao_cao = :k and h.status = 'held') then 'held' else r.status end as absent "
        "from core.district d "
        "left join mart.district_sums s on s.ma_don_vi = d.ma_don_vi and s.nam_hoc = :y and s.ky_bao_cao = :k "
        "left join mart.reporting_status r on r.ma_don_vi = d.ma_don_vi and r.nam_hoc = :y and r.ky_bao_cao = :k "
        "where s.ma_don_vi is not null or " + EXPECTED_DISTRICT.format(nam_hoc="cast(:y as text)")
        + " order by d.ma_don_vi"
    )
    with engine.connect() as c:
        return pd.read_sql(query, c, params={"y": nam_hoc, "k": ky_bao_cao})


def coverage_note(covered: pd.DataFrame) -> str:
    """One sentence: how many of the expected districts the province figures sum, and who is left out."""
    included = int(covered["included"].sum())
    if included == len(covered):
        return f"Số liệu toàn tỉnh tổng hợp từ đủ {included}/{len(covered)} đơn vị."
    absent = covered[~covered["included"]]
    names = "; ".join(f"{r.ten_don_vi} ({ABSENT_VI.get(r.absent, ABSENT_VI[None])})"
                      for r in absent.itertuples())
    return (f"CHƯA ĐỦ SỐ LIỆU: số liệu toàn tỉnh chỉ tổng hợp từ {included}/{len(covered)} đơn vị; "
            f"chưa có số liệu của: {names}.")


def _write_sheet(book: xlsxwriter.Workbook, name: str, title: str, header: list[str],
                 rows: list[list[object]], note: str | None = None) -> None:
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "border": 1})
    sheet = book.add_worksheet(name)
    sheet.write(0, 0, title, book.add_format({"bold": True, "font_size": 13}))
    if note:
        sheet.write(1, 0, note, book.add_format({"italic": True, "font_color": "#9C0006"}
                                                if note.startswith("CHƯA") else {"italic": True}))
    sheet.write_row(2, 0, header, bold)
    for i, row in enumerate(rows):
        sheet.write_row(3 + i, 0, ["" if _is_missing(v) else v for v in row])
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 48)
    sheet.set_column(2, len(header), 14)
    sheet.freeze_panes(3, 2)


def write_annual_report(engine: sa.Engine, province: ProvinceConfig, nam_hoc: str, out_dir: Path) -> list[Path]:
    """The annual report of a school year (CN round): province indicators against targets, district
    values, submission status; as an Excel workbook and a CSV of the province figures."""
    indicators = province_indicators(engine, nam_hoc)
    if indicators.empty:
        raise ValueError(f"chưa có số liệu cuối năm (CN) của năm học {nam_hoc} trong kho dữ liệu")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"bao-cao-nam_{province.slug}_{nam_hoc}"
    xlsx, csv_path = out_dir / f"{stem}.xlsx", out_dir / f"{stem}.csv"
    book = xlsxwriter.Workbook(_part(xlsx), WORKBOOK_OPTIONS)
    ten_tinh = province.meta["ten_tinh"]
    covered = coverage(engine, nam_hoc)
    _write_sheet(
        book, "Toàn tỉnh", f"{province.meta['ten_so']}: kết quả năm học {nam_hoc} (tổng kết cả năm)",
        ["Mã chỉ tiêu", "Chỉ tiêu", "Tử số", "Mẫu số", "Giá trị", "Mục tiêu", "Năm học đích", "Đánh giá",
         "Định nghĩa"],
        [[r.indicator, r.label_vi, _display(r.numerator, "count"), _display(r.denominator, "count")
          if r.denominator is not None and not pd.isna(r.denominator) else "",
          _display(r.value, r.unit), "" if pd.isna(r.target) else float(r.target), r.target_nam_hoc or "",
          _assessment(r.met, nam_hoc, r.target_nam_hoc),
          DEFINITION_VI.get(r.definition, r.definition or "")]
         for r in indicators.itertuples()],
        note=coverage_note(covered),
    )
    districts = district_values(engine, nam_hoc)
    units = dict(zip(indicators.indicator, indicators.unit, strict=True))
    labels = dict(zip(indicators.indicator, indicators.label_vi, strict=True))
    # pivot, not pivot_table(dropna=False): that one makes a row of every code × name pair, i.e. each district
    # again under every other district's name with no figures
    wide = districts.pivot(index=["ma_don_vi", "ten_don_vi"], columns="indicator", values="value")
    codes = list(indicators.indicator)
    # the columns are named as the readers know the indicators, with their unit (`%`), not by warehouse codes
    _write_sheet(
        book, "Theo huyện", f"{ten_tinh}: chỉ tiêu theo đơn vị, năm học {nam_hoc}",
        ["Mã đơn vị", "Đơn vị", *[labels[code] for code in codes]],
        [[ma, ten, *[_display(wide.loc[(ma, ten)].get(code), units[code]) for code in codes]]
         for ma, ten in wide.index],
    )
    status = reporting_status(engine, nam_hoc)
    _write_sheet(
        book, "Tình hình nộp", f"Tình hình nộp báo cáo năm học {nam_hoc}",
        ["Mã đơn vị", "Đơn vị", "Kỳ", "Hạn nộp", "Tình trạng", "Mã lần nộp"],
        [[r.ma_don_vi, r.ten_don_vi, r.ky_bao_cao, str(r.deadline), STATUS_VI.get(r.status, r.status),
          "" if pd.isna(r.submission_id) else int(r.submission_id)] for r in status.itertuples()],
    )
    book.close()
    # how many districts each figure sums, of how many expected: a partial province figure says so
    indicators.assign(n_districts=int(covered["included"].sum()), n_districts_expected=len(covered)).to_csv(
        _part(csv_path), index=False, quoting=csv.QUOTE_MINIMAL)
    return _publish_files([xlsx, csv_path])


def phase_years(engine: sa.Engine, province: ProvinceConfig, giai_doan: str) -> tuple[list[str], str]:
    """The school years a phase report shows (baseline .. target year) and the target year."""
    targets = [t for t in province.targets if t["phase"] == giai_doan]
    if not targets:
        phases = sorted({t["phase"] for t in province.targets})
        raise ValueError(f"giai đoạn {giai_doan} không có mục tiêu trong cấu hình; có: {', '.join(phases)}")
    target_year = max(t["target_nam_hoc"] for t in targets)
    baselines = [t["baseline_nam_hoc"] for t in targets if t["baseline_nam_hoc"]]
    first = min(baselines) if baselines else target_year
    years = [f"{y}-{y + 1}" for y in range(int(first[:4]), int(target_year[:4]) + 1)]
    return years, target_year


def write_phase_report(engine: sa.Engine, province: ProvinceConfig, giai_doan: str, out_dir: Path) -> list[Path]:
    """The phase report: for each target of the phase, of the province or of a district with its own plan
    (indicators.md, "Targets"), the baseline year, every year of the phase (the unit's CN values), the
    target and whether the target year met it; the last column names the unit."""
    years, target_year = phase_years(engine, province, giai_doan)
    query = sa.text(
        "select t.unit_type, t.unit_code, t.indicator, t.nam_hoc, t.value from mart.indicator_trend t "
        "where t.nam_hoc = any(:years)"
    )
    with engine.connect() as c:
        trend = pd.read_sql(query, c, params={"years": years})
        catalogue = {r.indicator: (r.label_vi, r.unit) for r in
                     c.execute(sa.text("select indicator, label_vi, unit from core.indicator"))}
        district_names = dict(c.execute(sa.text("select ma_don_vi, ten_don_vi from core.district")).all())
    # the province's targets first, then each district's, in the configuration's order
    targets = sorted((t for t in province.targets if t["phase"] == giai_doan),
                     key=lambda t: t["unit_type"] != "province")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"bao-cao-giai-doan_{province.slug}_{giai_doan}"
    rows = []
    for target in targets:
        if target["unit_type"] == "province":
            unit_code, unit_name = province.ma_tinh, province.meta["ten_tinh"]
        else:
            unit_code = target["ma_don_vi"]
            unit_name = district_names.get(unit_code, unit_code)
        series = trend[(trend.unit_type == target["unit_type"]) & (trend.unit_code == unit_code)
                       & (trend.indicator == target["indicator"])].set_index("nam_hoc")
        label, unit = catalogue.get(target["indicator"], (target["indicator"], "percent"))
        values = [series.value.get(y) for y in years]
        final = series.value.get(target["target_nam_hoc"])
        goal = float(target["target_value"])
        met = None
        if final is not None and not pd.isna(final):
            met = final <= goal if target["indicator"] == "thieu_gv" else final >= goal
        rows.append([target["indicator"], label, *[_display(v, unit) for v in values], goal,
                     MET_VI.get(met, "chưa có số liệu"), unit_name])
    if any(target["unit_type"] == "province" for target in targets):
        # the province values of a year sum the districts that reported it: how many, of how many expected
        shares = []
        for nam_hoc in years:
            covered = coverage(engine, nam_hoc)
            shares.append(f"{int(covered['included'].sum())}/{len(covered)}" if len(covered) else "")
        rows.append(["", "Số đơn vị có số liệu tổng kết cả năm / số đơn vị phải báo cáo", *shares, "", "",
                     province.meta["ten_tinh"]])
    header = ["Mã chỉ tiêu", "Chỉ tiêu", *years, f"Mục tiêu {target_year}", "Đánh giá", "Đơn vị"]
    xlsx, csv_path = out_dir / f"{stem}.xlsx", out_dir / f"{stem}.csv"
    book = xlsxwriter.Workbook(_part(xlsx), WORKBOOK_OPTIONS)
    _write_sheet(book, "Giai đoạn", f"{province.meta['ten_so']}: kết quả giai đoạn {giai_doan} so với mục tiêu",
                 header, rows)
    book.close()
    with open(_part(csv_path), "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return _publish_files([xlsx, csv_path])


def _part(path: Path) -> Path:
    """Where a report file is written before it replaces the previous one (`_publish_files`)."""
    return path.with_name(f".{path.name}.part")


def _publish_files(paths: list[Path]) -> list[Path]:
    """Each report file replaces the previous one whole, once every file of the report is written: a write that
    died half-way left a truncated workbook where the last good one was (the Sở signs from these files)."""
    for path in paths:
        os.replace(_part(path), path)
    return paths
