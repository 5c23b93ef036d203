"""A district's clean generated workbook rewritten as clerks really send it, and the indicators computed from
its clean numbers without the warehouse (indicators.md), for tests that check a whole night against the truth.

The clean numbers are read back from the generator's workbook with openpyxl (its key row), not with
etl.read; the indicators are computed here in Python from indicators.md, not with the roll-up's SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import openpyxl

from etl.layout import ColumnSpec, load_layout
from tests.etl.test_read import F, write_xlsx

LAYOUT = load_layout()
TABLES = [*(s.name for s in LAYOUT.school_sheets), "LopBoiDuong"]
ENUM_KEY = {(enum, spelling): key for enum, keys in LAYOUT.enums.items()
            for key, spellings in keys.items() for spelling in spellings}
Row = dict[str, Any]


@dataclass
class Clean:
    """A submission as the generator made it: ThongTin values and each table's rows, typed (enumerations as keys)."""

    header: dict[str, Any]
    tables: dict[str, list[Row]]

    @property
    def period(self) -> tuple[str, str, str]:
        return self.header["ma_don_vi"], self.header["nam_hoc"], self.header["ky_bao_cao"]


def _typed(column: ColumnSpec, value: Any) -> Any:
    if column.type == "enum" and value is not None:
        return ENUM_KEY[(column.key, value)]
    if column.type == "date" and isinstance(value, dt.datetime):
        return value.date()
    if column.type == "decimal" and value is not None:
        return Decimal(str(value))
    return value


def read_clean(path: Path) -> Clean:
    """The generator's workbook as typed values, from its key row (openpyxl; nothing of etl.read)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    info = LAYOUT.sheets["ThongTin"]
    header = {c.key: _typed(c, row[1]) for c, row in zip(info.columns, wb["ThongTin"].iter_rows(values_only=True),
                                                          strict=True)}
    tables = {}
    for sheet in TABLES:
        spec = LAYOUT.sheets[sheet]
        rows = list(wb[sheet].iter_rows(values_only=True))
        keys = rows[2]
        tables[sheet] = [{k: _typed(spec.column(k), v) for k, v in zip(keys, r, strict=True) if k}
                         for r in rows[3:] if any(v is not None for v in r)]
    return Clean(header, tables)


# ---------------------------------------------------------------- the truth

PERCENT_OF: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "huy_dong_nha_tre": (("tre_nha_tre",), ("dan_so_0_2",)),
    "huy_dong_mau_giao": (("tre_mau_giao",), ("dan_so_3_5",)),
    "huy_dong_5_tuoi": (("tre_5_tuoi",), ("dan_so_5",)),
    "gv_cd_tro_len": (("gv_td_cao_dang", "gv_td_dai_hoc", "gv_td_sau_dai_hoc"), ("gv_tong",)),
    "cbql_gv_cd_tro_len": (("gv_td_cao_dang", "gv_td_dai_hoc", "gv_td_sau_dai_hoc", "cbql_td_cao_dang",
                            "cbql_td_dai_hoc", "cbql_td_sau_dai_hoc"), ("cbql_tong", "gv_tong")),
    "gv_danh_gia": (("gv_duoc_danh_gia",), ("gv_tong",)),
    **{f"gv_{lv}": ((f"gv_{lv}",), ("gv_duoc_danh_gia",)) for lv in ("tot", "kha", "dat", "chua_dat")},
    "gv_kha_tro_len": (("gv_tot", "gv_kha"), ("gv_duoc_danh_gia",)),
    "cbql_danh_gia": (("cbql_duoc_danh_gia",), ("cbql_tong",)),
    **{f"cbql_{lv}": ((f"cbql_{lv}",), ("cbql_duoc_danh_gia",)) for lv in ("tot", "kha", "dat", "chua_dat")},
    "cbql_kha_tro_len": (("cbql_tot", "cbql_kha"), ("cbql_duoc_danh_gia",)),
    "cbql_gv_kha_tro_len": (("gv_tot", "gv_kha", "cbql_tot", "cbql_kha"), ("gv_duoc_danh_gia", "cbql_duoc_danh_gia")),
    "cot_can_bd_ho_tro": (("cot_can_bd_ho_tro",), ("gv_cot_can", "cbql_cot_can")),
    **{name: ((f"gv_{col}", f"cbql_{col}"), ("gv_tong", "cbql_tong")) for name, col in
       (("bd_theo_chuan", "bd_theo_chuan"), ("hoan_thanh_bdtx", "hoan_thanh_bdtx"), ("tin_hoc", "tin_hoc"),
        ("ngoai_ngu", "ngoai_ngu"), ("llct", "llct"))},
    "cc_cdnn_truoc_bo_nhiem": (("gv_bo_nhiem_hang_co_cc",), ("gv_bo_nhiem_hang",)),
    "cc_qlgd_truoc_bo_nhiem": (("cbql_bo_nhiem_co_cc",), ("cbql_bo_nhiem",)),
    "cbql_dang_vien": (("cbql_dang_vien",), ("cbql_tong",)),
    "bien_che": (("gv_bien_che", "cbql_bien_che"), ("gv_tong", "cbql_tong")),
    **{f"gv_{h}": ((f"gv_{h}",), ("gv_tong",)) for h in ("hang_1", "hang_2", "hang_3", "hang_4", "chua_xep_hang")},
}
RATIO_OF = {"gv_tren_lop": (("gv_tong",), ("so_nhom_tre", "so_lop_mau_giao")),
            "gv_thay_the": (("gv_tuyen_moi",), ("gv_nghi_huu",))}
COUNT_OF = {"so_nhom_lop": ("so_nhom_tre", "so_lop_mau_giao"), "tong_tre": ("tre_nha_tre", "tre_mau_giao"),
            **{k: (k,) for k in ("so_nhom_tre", "so_lop_mau_giao", "tre_nha_tre", "tre_mau_giao", "tre_5_tuoi",
                                 "cbql_tong", "gv_tong", "nv_tong")}}
FORMS = ("chinh_tri", "chuyen_mon", "truc_tuyen")


def school_facts(clean: Clean) -> dict[str, Row]:
    """Each school's row of the four school sheets joined (an empty rating sheet counts 0)."""
    facts: dict[str, Row] = {}
    for sheet in (s.name for s in LAYOUT.school_sheets):
        for row in clean.tables[sheet]:
            facts.setdefault(row["ma_truong"], {}).update(
                {k: v for k, v in row.items() if k not in ("ma_truong", "ten_truong")})
    rated = [c.key for c in LAYOUT.sheets["DanhGiaChuan"].columns if c.type == "int"]
    for fact in facts.values():
        for key in rated:
            fact.setdefault(key, 0)
        for key, value in list(fact.items()):
            if value is None and key not in ("loai_hinh",):
                fact[key] = 0
    return facts


def unit_sums(cleans: list[Clean], norms: tuple[Decimal, Decimal]) -> dict[str, Any]:
    """The sums a unit's indicators are ratios of, over the given current submissions."""
    sums: dict[str, Any] = {"so_truong": 0, "so_truong_cong_lap": 0, "dat_chuan_qg": 0, "thieu_gv": 0,
                            "lop_bd": 0, "hoc_vien_bd": 0, "kinh_phi_bd": Decimal(0)}
    for form in FORMS:
        sums[f"lop_bd_{form}"] = sums[f"hoc_vien_bd_{form}"] = 0
    for clean in cleans:
        for key in ("dan_so_0_2", "dan_so_3_5", "dan_so_5"):
            sums[key] = sums.get(key, 0) + clean.header[key]
        for fact in school_facts(clean).values():
            sums["so_truong"] += 1
            sums["so_truong_cong_lap"] += fact["loai_hinh"] == "cong_lap"
            for key, value in fact.items():
                if isinstance(value, int) and key != "dat_chuan_qg":
                    sums[key] = sums.get(key, 0) + value
            sums["dat_chuan_qg"] += fact["dat_chuan_qg"]
            need = (norms[0] * fact["so_nhom_tre"] + norms[1] * fact["so_lop_mau_giao"]).to_integral_value(
                ROUND_CEILING)
            sums["thieu_gv"] += max(0, int(need) - fact["gv_tong"])
        for course in clean.tables["LopBoiDuong"]:
            sums["lop_bd"] += 1
            sums[f"lop_bd_{course['hinh_thuc']}"] += 1
            sums["hoc_vien_bd"] += course["so_hoc_vien"]
            sums[f"hoc_vien_bd_{course['hinh_thuc']}"] += course["so_hoc_vien"]
            sums["kinh_phi_bd"] += course["kinh_phi"]
    return sums


def indicators(sums: dict[str, Any], nam_hoc: str) -> dict[str, tuple[Any, Any, Any]]:
    """indicator -> (numerator, denominator, value) as indicators.md defines them."""
    def total(keys: tuple[str, ...]) -> int:
        return sum(sums.get(k, 0) for k in keys)

    def ratio(num: Any, den: Any, scale: int) -> tuple[Any, Any, Any]:
        return num, den, None if den == 0 else Decimal(num) * scale / Decimal(den)

    out: dict[str, tuple[Any, Any, Any]] = {}
    n = sums["so_truong"]
    out["so_truong"] = (n, None, n)
    out["so_truong_cong_lap"] = (sums["so_truong_cong_lap"], None, sums["so_truong_cong_lap"])
    out["so_truong_ngoai_cong_lap"] = (n - sums["so_truong_cong_lap"], None, n - sums["so_truong_cong_lap"])
    for name, keys in COUNT_OF.items():
        out[name] = (total(keys), None, total(keys))
    out["truong_dat_chuan_qg"] = ratio(sums["dat_chuan_qg"], n, 100)
    out["thieu_gv"] = (sums["thieu_gv"], None, sums["thieu_gv"])
    for name, (num, den) in PERCENT_OF.items():
        out[name] = ratio(total(num), total(den), 100)
    for name, (num, den) in RATIO_OF.items():
        out[name] = ratio(total(num), total(den), 1)
    new_standard = int(nam_hoc[:4]) >= 2020
    dat = ("trung_cap", "cao_dang", "dai_hoc", "sau_dai_hoc")[new_standard:]
    tren = dat[1:]
    for level, keys in (("dat", dat), ("tren", tren)):
        gv = total(tuple(f"gv_td_{k}" for k in keys))
        cbql = total(tuple(f"cbql_td_{k}" for k in keys))
        out[f"gv_{level}_chuan_td"] = ratio(gv, sums["gv_tong"], 100)
        out[f"cbql_{level}_chuan_td"] = ratio(cbql, sums["cbql_tong"], 100)
        out[f"cbql_gv_{level}_chuan_td"] = ratio(gv + cbql, sums["gv_tong"] + sums["cbql_tong"], 100)
    for key in ("lop_bd", "hoc_vien_bd", "kinh_phi_bd", *(f"lop_bd_{f}" for f in FORMS),
                *(f"hoc_vien_bd_{f}" for f in FORMS)):
        out[key] = (sums[key], None, sums[key])
    return out


# ---------------------------------------------------------------- the clerk's rewrite


def _thousands(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def count_cell(rng: random.Random, n: int, export: bool = False) -> Any:
    """A count as a district writes it; as a machine export writes it when `export`."""
    if export:
        return rng.choice([str(n), str(n)] + ([""] if n == 0 else []))
    forms: list[Any] = [n, n, str(n), float(n), f"{n}.0", f" {n} ", F(f"={n}+0", n), f"{n},0", f"{n}."]
    if n >= 1000:
        forms += [_thousands(n, "."), _thousands(n, " "), _thousands(n, ".") + ",0"]
    if n == 0:
        forms += [None, None, "  "]
    return rng.choice(forms)


def messy_label(rng: random.Random, label: str) -> str:
    if rng.random() < 0.15:
        label = rng.choice(["1. ", "(2) ", "a) "]) + label
    if rng.random() < 0.2:
        label = label.upper()
    if rng.random() < 0.3:
        label = label.replace(" ", "  ", 1)
    if rng.random() < 0.25:
        label = label.replace(" ", "\n", 1)
    if rng.random() < 0.3:
        label = unicodedata.normalize("NFD", label)
    return label


OLD_LEVELS = {"Chưa đạt": "Kém", "Tốt": "Xuất sắc", "Đạt": "Trung bình"}


def header_label(rng: random.Random, column: ColumnSpec, old_levels: bool) -> str:
    label = column.label_vi
    if old_levels and column.key.endswith(("_tot", "_dat", "_chua_dat")) and "xếp loại" in label:
        for new, old in OLD_LEVELS.items():
            if label.endswith(new):
                label = label[: -len(new)] + old
                break
    if rng.random() < 0.1:
        return column.key
    return messy_label(rng, label)


def value_cell(rng: random.Random, column: ColumnSpec, value: Any, export: bool = False) -> Any:
    if column.type == "int":
        return count_cell(rng, int(value or 0), export)
    if export and column.type in ("code", "flag", "decimal"):
        return str(value)
    if column.type == "code":
        return rng.choice([value, value, int(value), f"'{value}", f"{value}.0", float(value)])
    if column.type == "enum":
        return rng.choice(LAYOUT.enums[column.key][value])
    if column.type == "flag":
        spellings = LAYOUT.flags[value] + ((None,) if value == 0 else ())
        return rng.choice([value, *spellings])
    if column.type == "decimal":
        tenths = int(value * 10)
        return rng.choice([float(value), f"{tenths // 10},{tenths % 10}", str(value).replace(".", ",")])
    return value


@dataclass
class Extras:
    """What write_xlsx needs besides the cells."""

    hidden_cols: dict[str, list[int]] = field(default_factory=dict)
    hidden_rows: dict[str, list[int]] = field(default_factory=dict)
    hidden_sheets: list[str] = field(default_factory=list)
    merges: dict[str, list[tuple[int, int, int, int, str]]] = field(default_factory=dict)


def sheet_name(rng: random.Random, name: str) -> str:
    spaced = {"ThongTin": "Thông tin", "TruongLop": "Trường lớp", "DoiNgu": "Đội ngũ", "DanhGiaChuan": "Đánh giá chuẩn",
              "BoiDuong": "Bồi dưỡng", "LopBoiDuong": "Lớp bồi dưỡng"}[name]
    return rng.choice([name, name, spaced, spaced.upper(), f"1. {name}", f"{name} (2)", f"Copy of {name}",
                       f"{name} - Bảng 1", name.upper()])


def thongtin_sheet(rng: random.Random, header: dict[str, Any], export: bool = False) -> list[list[Any]]:
    rows = []
    for column in LAYOUT.sheets["ThongTin"].columns:
        value = header[column.key]
        if column.key == "ma_don_vi":
            cell = rng.choice([value, int(value), f"{value}.0", f"'{value}"])
        elif column.key == "nam_hoc":
            y = int(value[:4])
            cell = rng.choice([value, f"{y} - {y + 1}", f"{y}/{y + 1}", f"{y}-{str(y + 1)[2:]}"])
        elif column.key == "ky_bao_cao":
            cell = rng.choice(LAYOUT.enums["ky_bao_cao"][value])
        elif column.key == "ngay_lap":
            cell = rng.choice([value, value.strftime("%d/%m/%Y"), value.isoformat(),
                               f"Quỳnh Nhai, ngày {value.day} tháng {value.month} năm {value.year}"])
        elif column.type == "int":
            cell = count_cell(rng, value, export)
        else:
            cell = value
        label = column.key if rng.random() < 0.1 else messy_label(rng, column.label_vi)
        rows.append([label, cell])
    rng.shuffle(rows)
    if rng.random() < 0.5:
        rows = [["BÁO CÁO SỐ LIỆU GIÁO DỤC MẦM NON"], [], *rows, [], ["Ghi chú: số liệu đến cuối kỳ."]]
    return rows


def table_sheet(rng: random.Random, sheet: str, rows: list[Row], extras: Extras, written: str,
                csv_delimiter: str | None = None) -> list[list[Any]]:
    """A table as a clerk lays it out; `written` is the sheet's name in the file."""
    spec = LAYOUT.sheets[sheet]
    order = list(spec.columns)
    if rng.random() < 0.5:
        rng.shuffle(order)
    old_levels = rng.random() < 0.3
    header: list[Any] = [header_label(rng, c, old_levels) for c in order]
    keys: list[Any] = [c.key for c in order]
    export = csv_delimiter == ","
    rows = list(rows)
    if rng.random() < 0.5:
        rng.shuffle(rows)
    body = [[value_cell(rng, c, r.get(c.key), export) for c in order] for r in rows]
    ints = [j for j, c in enumerate(order) if c.type == "int"]
    # a spacer column (no title, empty), an extra notes column, a percentage beside a count
    if rng.random() < 0.4 and len(order) > 3:
        at = rng.randrange(1, len(header))
        header.insert(at, None)
        keys.insert(at, None)
        for r in body:
            r.insert(at, None)
        ints = [j + (j >= at) for j in ints]
    if rng.random() < 0.4:
        header.append("Ghi chú")
        keys.append(None)
        for r in body:
            r.append(rng.choice([None, "đã kiểm tra", "mới thành lập"]))
    if rng.random() < 0.3 and ints:
        j = rng.choice(ints)
        header.append(f"Tỷ lệ {header[j]} (%)".replace("\n", " "))
        keys.append(None)
        for r in body:
            r.append(round(rng.random() * 100, 1))
    hidden_old = rng.random() < 0.3 and ints and sheet != "LopBoiDuong" and csv_delimiter is None
    if hidden_old:
        j = rng.choice(ints)
        header.append(header[j])
        keys.append(None)
        for r in body:
            r.append(rng.randint(0, 50))
    out: list[list[Any]] = []
    titles = rng.randint(0, 3)
    for i in range(titles):
        out.append([f"BIỂU {written.upper()} – năm học" if i == 0 else "Đơn vị: Phòng GD&ĐT"])
    if titles:
        extras.merges.setdefault(written, []).append((0, 0, 0, max(3, len(header) - 1), out[0][0]))
        out.append([])
    out.append(header)
    if rng.random() < 0.4:
        out.append(keys)
    elif rng.random() < 0.3:
        out.append([f"({i + 1})" for i in range(len(header))])
    school_rows: list[int] = []
    # schools grouped in clusters, each under its heading and followed by its own sums
    clusters = rng.randint(2, 3) if sheet != "LopBoiDuong" and len(rows) >= 6 and rng.random() < 0.3 else 1
    bounds = [len(rows) * k // clusters for k in range(clusters + 1)]
    name_at = keys.index("ten_truong") if "ten_truong" in keys else 0
    for k in range(clusters):
        if clusters > 1:
            heading: list[Any] = [None] * len(header)
            heading[name_at] = f"{'I' * (k + 1)}. Cụm trường số {k + 1}"
            out.append(heading)
        for r in body[bounds[k]:bounds[k + 1]]:
            school_rows.append(len(out))
            out.append(r)
            if rng.random() < 0.1:
                out.append([])
        if clusters > 1:
            sums: list[Any] = [None] * len(header)
            sums[name_at] = f"Cộng cụm {k + 1}"
            for c in order:
                if c.type == "int":
                    sums[keys.index(c.key)] = sum(int(r.get(c.key) or 0) for r in rows[bounds[k]:bounds[k + 1]])
            out.append(sums)
    if sheet != "LopBoiDuong" and rows and rng.random() < 0.6:
        totals: list[Any] = [None] * len(header)
        totals[name_at] = rng.choice(["Tổng cộng", "Cộng", "TỔNG SỐ", "Tổng cộng toàn huyện", "Toàn huyện"])
        if "ma_truong" in keys and rng.random() < 0.3 and keys.index("ma_truong") != name_at:
            totals[keys.index("ma_truong")] = len(rows)
        for c in order:
            if c.type == "int":
                j = keys.index(c.key)
                s = sum(int(r.get(c.key) or 0) for r in rows)
                totals[j] = s if rng.random() < 0.5 else F(f"=SUM(A{school_rows[0] + 1}:A{len(out)})", s)
        out.append(totals)
    if rng.random() < 0.4:
        out += [[], [None, "Người lập biểu", None, "Thủ trưởng đơn vị"], [None, "(ký, ghi rõ họ tên)"]]
    if rng.random() < 0.4:
        first_header = titles + (1 if titles else 0)
        number = {row: n + 1 for n, row in enumerate(school_rows)}
        out = [["STT", *r] if i == first_header else [number.get(i), *r] for i, r in enumerate(out)]
        shift = 1
    else:
        shift = 0
    if hidden_old:
        extras.hidden_cols.setdefault(written, []).append(len(header) - 1 + shift)
    return out


def messy_book(rng: random.Random, clean: Clean, csv_delimiter: str | None = None
               ) -> tuple[dict[str, list[list[Any]]], Extras]:
    extras = Extras()
    book: dict[str, list[list[Any]]] = {}
    names = {}
    used = set()
    for sheet in ["ThongTin", *TABLES]:
        name = sheet_name(rng, sheet)
        while name.lower() in used:
            name = sheet
        used.add(name.lower())
        names[sheet] = name
    book[names["ThongTin"]] = thongtin_sheet(rng, clean.header, csv_delimiter == ",")
    hki = clean.header["ky_bao_cao"] == "HKI"
    for sheet in TABLES:
        if hki and sheet == "DanhGiaChuan" and rng.random() < 0.5:
            continue  # may be absent in HKI
        book[names[sheet]] = table_sheet(rng, sheet, clean.tables[sheet], extras, names[sheet], csv_delimiter)
    if rng.random() < 0.3:
        book["Sheet1"] = [["ghi chú của người lập"]]
    items = list(book.items())
    if rng.random() < 0.5:
        rng.shuffle(items)
    if rng.random() < 0.3 and csv_delimiter is None:
        # last year's copy of a sheet, kept hidden beside this year's (not first: the first sheet is the one
        # Excel opens on, which it cannot hide)
        sheet = rng.choice(["TruongLop", "DoiNgu", "BoiDuong"])
        copy = f"{sheet} (3)"
        stale = [[c.label_vi for c in LAYOUT.sheets[sheet].columns],
                 *[[r.get(c.key) if c.type != "int" else 1 for c in LAYOUT.sheets[sheet].columns]
                   for r in clean.tables[sheet]]]
        items.insert(rng.randint(1, len(items)), (copy, stale))
        extras.hidden_sheets.append(copy)
    return dict(items), extras


def _csv_cell(cell: Any, delimiter: str) -> Any:
    """A cell as Excel saves it in a CSV: its value; a number with the decimal separator of the settings that
    chose the delimiter (`;` under Vietnamese settings: a decimal comma)."""
    if isinstance(cell, F):
        cell = cell.cached
    if cell is None:
        return ""
    if isinstance(cell, float):
        text = str(int(cell)) if cell == int(cell) else str(cell)
        return text.replace(".", ",") if delimiter == ";" else text
    if isinstance(cell, dt.date):
        return cell.strftime("%d/%m/%Y")
    return cell


def write_csv_zip(rng: random.Random, path: Path, clean: Clean) -> Path:
    """The CSV variant: the messy book saved sheet by sheet, `;` as Excel writes it under Vietnamese settings
    or `,` as a machine export writes it, in a folder or not, with macOS's companion files."""
    delimiter = rng.choice([";", ","])
    book, _ = messy_book(rng, clean, delimiter)
    folder = rng.choice(["", "bao-cao/"])
    with zipfile.ZipFile(path, "w") as archive:
        for name, rows in book.items():
            out = io.StringIO()
            csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(
                [_csv_cell(c, delimiter) for c in r] for r in rows)
            archive.writestr(f"{folder}{name}.csv", ("\ufeff" + out.getvalue()).encode())
        if folder:
            archive.writestr(f"__MACOSX/{folder}._TruongLop.csv", b"\x00\x05\x16\x07")
    return path


def write_messy(rng: random.Random, clean: Clean, path: Path) -> Path:
    """`clean` written as a district would send it: an xlsx with a random mix of the deviations, or a CSV zip."""
    if path.suffix == ".zip":
        return write_csv_zip(rng, path, clean)
    book, extras = messy_book(rng, clean)
    return write_xlsx(path, book, hidden_cols=extras.hidden_cols, merges=extras.merges,
                      hidden_rows=extras.hidden_rows, hidden_sheets=tuple(extras.hidden_sheets))



# ---------------------------------------------------------------- the warehouse against the truth


def _close(got: Any, want: Any) -> bool:
    """Equal, or within the last digits PostgreSQL's numeric division keeps (it stops at 16-20 significant
    digits); NULL only where the truth has none."""
    if got is None or want is None or got == "" or want == "":
        return (got is None or got == "") and (want is None or want == "")
    got, want = Decimal(str(got)), Decimal(str(want))
    return abs(got - want) <= Decimal("1e-12") * max(Decimal(1), abs(want))


def truth_facts(current: dict[tuple[str, str, str], Clean]) -> dict[tuple[str, str, str], Row]:
    """core.fact_school_period as it must be: (ma_truong, nam_hoc, ky) -> district and every count."""
    out = {}
    for (ma, nam, ky), clean in current.items():
        for code, fact in school_facts(clean).items():
            out[(code, nam, ky)] = {"ma_don_vi": ma, **fact}
    return out


def truth_marts(current: dict[tuple[str, str, str], Clean], norms: tuple[Decimal, Decimal]
                ) -> tuple[dict[tuple, tuple], dict[tuple, tuple]]:
    """(district rows, province rows) of the indicator marts as they must be, keyed as the views are."""
    district, periods = {}, {}
    for (ma, nam, ky), clean in current.items():
        periods.setdefault((nam, ky), []).append(clean)
        for name, triple in indicators(unit_sums([clean], norms), nam).items():
            district[(ma, nam, ky, name)] = triple
    province = {(nam, ky, name): triple for (nam, ky), cleans in periods.items()
                for name, triple in indicators(unit_sums(cleans, norms), nam).items()}
    return district, province


def differences(got: dict[tuple, tuple], want: dict[tuple, tuple]) -> list[str]:
    """Every key missing, extra or with another (numerator, denominator, value)."""
    out = [f"thiếu {k}" for k in want.keys() - got.keys()] + [f"thừa {k}" for k in got.keys() - want.keys()]
    out += [f"{k}: {got[k]} != {want[k]}" for k in want.keys() & got.keys()
            if not all(_close(g, w) for g, w in zip(got[k], want[k], strict=True))]
    return sorted(out)


def fact_differences(got: dict[tuple, Row], want: dict[tuple, Row]) -> list[str]:
    out = [f"thiếu {k}" for k in want.keys() - got.keys()] + [f"thừa {k}" for k in got.keys() - want.keys()]
    out += [f"{k} {col}: {got[k][col]} != {v}" for k in want.keys() & got.keys()
            for col, v in want[k].items() if got[k][col] != v]
    return sorted(out)
