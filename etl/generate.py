"""Demo district workbooks of template DA33-MN-v1, and the Sơn La May-2019 "published baseline" workbooks.

The numbers are invented but plausible, and every rule of submission-template.md holds in every school
(sum rules, ≤ rules within and across sheets, children and teachers per class in range, no rank IV
teacher from 2021-2022 on). How they are made:

* a school's size (classes, children per class, teachers per class, managers, staff) comes from its
  own random streams: the traits that stay from `(seed, ma_truong)`, the small yearly jitter from
  `(seed, ma_truong, nam_hoc)`. District totals therefore move by a few per cent a year, and a school's
  numbers do not depend on which call produced them;
* the columns that count part of a school's people (qualification, rank, rating, payroll, training,
  certificates) are allocated top-down per district: each part's district total is the rounded sum of
  the schools' expected values (the school year's trend × the school's total, tilted by the school's
  own quality), then split over the schools by largest remainder within each school's bound. Every
  sum and ≤ rule holds exactly and district totals follow the trends smoothly;
* the baseline workbooks split the published province totals of 2018-2019 over the districts and
  then over their schools in the same way, with the 2018-2019 model values as weights, so each
  baseline district looks like the model's district of that year.

Trends run from the baseline school year 2018-2019: qualification, ratings, certificates and nursery
enrolment rise; rank IV is abolished from 2021-2022 (Thông tư 01/2021/TT-BGDĐT), its teachers move to
rank III and those still below the new qualification standard wait unranked.

Rounds: `HKI` carries the values of `CN` of its school year (schools, classes, staff, training, courses)
except a little fewer children (some enrol during the year), and an empty DanhGiaChuan (header rows
only): teachers and managers are rated against the standards at the end of the school year.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from etl.config import ProvinceConfig
from etl.layout import Layout, load_layout
from etl.template import KY_BAO_CAO_TEXT, district_record, school_identity_rows, write_workbook

BASE_YEAR = 2018  # trend index 0 is school year 2018-2019, the year of the published baseline
RANK_REFORM_YEAR = 2021  # rank IV abolished from school year 2021-2022 on
ROUNDS = ("HKI", "CN")
BASELINE_NAM_HOC = "2018-2019"

Row = dict[str, int | str]

# Published figures of Sơn La at the end of school year 2018-2019 (indicators.md, seed 004):
# indicator code -> (value, number of decimals as published).
SON_LA_2019_BASELINE: dict[str, tuple[float, int]] = {
    "so_truong": (228, 0),
    "so_nhom_lop": (3596, 0),
    "tong_tre": (93249, 0),
    "cbql_tong": (665, 0),
    "gv_tong": (4723, 0),
    "nv_tong": (786, 0),
    "huy_dong_nha_tre": (18.2, 1),
    "huy_dong_mau_giao": (96.2, 1),
    "huy_dong_5_tuoi": (99.0, 1),
    "gv_tren_lop": (1.31, 2),
    "gv_tot": (41.5, 1),
    "gv_kha": (47.1, 1),
    "gv_dat": (11.1, 1),
    "gv_chua_dat": (0.3, 1),
    "cbql_tot": (43.5, 1),
    "cbql_kha": (52.0, 1),
    "cbql_dat": (4.4, 1),
    "cbql_chua_dat": (0.15, 2),
    "bien_che": (95.7, 1),
    "ngoai_ngu": (50.1, 1),
    "tin_hoc": (68.3, 1),
    "gv_hang_2": (17.0, 0),
    "gv_hang_3": (20.3, 1),
    "gv_hang_4": (61.1, 1),
    "gv_chua_xep_hang": (1.6, 1),
    "cbql_tren_chuan_td": (57.4, 1),
    "gv_tren_chuan_td": (75.8, 1),
}

# Province column totals behind those figures. Published: schools, groups, classes, children, staff.
# Chosen so that every published percentage rounds to its published value at its published decimals,
# each near the middle of its rounding interval: populations, every teacher and manager rated
# (gv_tot 1960/4723 = 41.50 %, cbql_chua_dat 1/665 = 0.15 %), qualification (CĐ and above:
# 382/665 = 57.44 %, 3580/4723 = 75.80 %), ranks (803 = 17.00 %, 959 = 20.30 %, 2886 = 61.11 %,
# 75 = 1.59 %), certificates of managers and teachers together (50.11 %, 68.30 %).
_BASELINE_TOTALS: dict[str, int] = {
    "so_nhom_tre": 465,
    "so_lop_mau_giao": 3131,
    "tre_nha_tre": 10318,
    "tre_mau_giao": 82931,
    "tre_5_tuoi": 29696,
    "cbql_tong": 665,
    "gv_tong": 4723,
    "nv_tong": 786,
    "cbql_td_duoi_trung_cap": 0,
    "cbql_td_trung_cap": 283,
    "cbql_td_cao_dang": 80,
    "cbql_td_dai_hoc": 302,
    "cbql_td_sau_dai_hoc": 0,
    "gv_td_duoi_trung_cap": 0,
    "gv_td_trung_cap": 1143,
    "gv_td_cao_dang": 1800,
    "gv_td_dai_hoc": 1780,
    "gv_td_sau_dai_hoc": 0,
    "gv_hang_1": 0,
    "gv_hang_2": 803,
    "gv_hang_3": 959,
    "gv_hang_4": 2886,
    "gv_chua_xep_hang": 75,
    "gv_duoc_danh_gia": 4723,
    "gv_tot": 1960,
    "gv_kha": 2224,
    "gv_dat": 524,
    "gv_chua_dat": 15,
    "cbql_duoc_danh_gia": 665,
    "cbql_tot": 289,
    "cbql_kha": 346,
    "cbql_dat": 29,
    "cbql_chua_dat": 1,
    "gv_ngoai_ngu": 2334,
    "cbql_ngoai_ngu": 366,
    "gv_tin_hoc": 3148,
    "cbql_tin_hoc": 532,
}
# CBQL and GV on the payroll together (95.69 %): every public-school manager, the rest teachers.
_BASELINE_BIEN_CHE = 5156
# Populations: 10318 / 56692 = 18.20 %, 82931 / 86207 = 96.20 %, 29696 / 29996 = 99.00 %.
_BASELINE_POPULATION = {"dan_so_0_2": 56692, "dan_so_3_5": 86207, "dan_so_5": 29996}

_NGUOI_LAP = (
    "Lò Thị Hương",
    "Cầm Văn Thắng",
    "Quàng Thị Lan",
    "Vì Thị Xuân",
    "Hoàng Thị Thu Hà",
    "Lường Văn Minh",
    "Nguyễn Thị Hạnh",
    "Tòng Thị Phương",
    "Đinh Thị Ngọc",
    "Lê Thị Mai",
)
_BASE_COLUMNS = (
    "so_nhom_tre",
    "so_lop_mau_giao",
    "tre_nha_tre",
    "tre_mau_giao",
    "tre_5_tuoi",
    "cbql_tong",
    "gv_tong",
    "nv_tong",
)
_TD = ("duoi_trung_cap", "trung_cap", "cao_dang", "dai_hoc", "sau_dai_hoc")
_LEVELS = ("tot", "kha", "dat", "chua_dat")


# ---------------------------------------------------------------- allocation


def allocate(total: int, weights: Sequence[float], caps: Sequence[int]) -> list[int]:
    """Split `total` into whole numbers, the i-th within 0..caps[i], as proportional to `weights` as the
    caps allow (largest remainder, ties to the earlier index).

    Where the positively weighted entries cannot hold the whole total, the rest is spread by the room
    left. ValueError if the caps together hold less than `total`.
    """
    if total > sum(caps):
        raise ValueError(f"cannot place {total} within caps summing to {sum(caps)}")
    # integer weights keep every comparison exact, so a quota never rounds past its cap
    scaled = [round(max(w, 0.0) * 1_000_000) for w in weights]
    out = [0] * len(caps)
    free = [i for i, cap in enumerate(caps) if cap > 0]
    left = total
    while left > 0:
        weight = {i: scaled[i] for i in free if scaled[i] > 0} or {i: caps[i] for i in free}
        mass = sum(weight.values())
        full = [i for i in weight if left * weight[i] >= caps[i] * mass]
        if not full:
            floors = {i: left * weight[i] // mass for i in weight}
            rest = left - sum(floors.values())
            order = sorted(weight, key=lambda i: (-(left * weight[i] % mass), i))
            lucky = set(order[:rest])
            for i in weight:
                out[i] = floors[i] + (1 if i in lucky else 0)
            return out
        for i in full:
            out[i] = caps[i]
            left -= caps[i]
            free.remove(i)
    return out


@dataclass(frozen=True)
class Split:
    """Columns `parts` add up to column `whole` in every school (a sum rule of the template).

    `shares(t)` gives each part's share of the province in year index t; a school's expected share is
    tilted by its quality: share × quality ** tilt, normalised.
    """

    whole: str
    parts: tuple[str, ...]
    shares: Callable[[int], Sequence[float]]
    tilts: tuple[float, ...]


@dataclass(frozen=True)
class Subset:
    """Column `key` counts some of the people counted by the columns `bound` (a ≤ rule of the template).

    A school's expected value is min(bound, bound × share(t) × quality ** tilt), and 0 in private
    schools when `public_only` (the state payroll).
    """

    key: str
    bound: tuple[str, ...]
    share: Callable[[int], float]
    tilt: float = 1.0
    public_only: bool = False


def _gv_qualification(t: int) -> tuple[float, ...]:
    """Teachers by qualification (dưới TC, TC, CĐ, ĐH, trên ĐH): TC fades, ĐH grows."""
    tc = 0.242 * 0.86**t
    dh = min(0.377 + 0.032 * t, 0.8)
    return (0.0, tc, 1 - tc - dh, dh, 0.0)


def _cbql_qualification(t: int) -> tuple[float, ...]:
    """Managers by qualification (dưới TC, TC, CĐ, ĐH, trên ĐH)."""
    tc = 0.426 * 0.85**t
    dh = min(0.454 + 0.045 * t, 0.85)
    return (0.0, tc, 1 - tc - dh, dh, 0.0)


def _gv_ranks(t: int) -> tuple[float, ...]:
    """Teachers by rank (I, II, III, IV, unranked). From 2021-2022 rank IV is gone: its teachers are
    rank III, except those below the new standard (trung cấp), who wait unranked."""
    if BASE_YEAR + t < RANK_REFORM_YEAR:
        hang_2, hang_3, unranked = 0.170 + 0.015 * t, 0.203 + 0.02 * t, 0.016
        return (0.0, hang_2, hang_3, 1 - hang_2 - hang_3 - unranked, unranked)
    hang_2 = 0.215 + 0.015 * (t - (RANK_REFORM_YEAR - BASE_YEAR))
    unranked = 0.015 + _gv_qualification(t)[1]
    return (0.0, hang_2, 1 - hang_2 - unranked, 0.0, unranked)


def _gv_ratings(t: int) -> tuple[float, ...]:
    """Teachers by rating (Tốt, Khá, Đạt, Chưa đạt): fewer Đạt and more Tốt every year."""
    kha, dat, chua_dat = 0.471 - 0.005 * t, 0.111 * 0.88**t, 0.003 * 0.9**t
    return (1 - kha - dat - chua_dat, kha, dat, chua_dat)


def _cbql_ratings(t: int) -> tuple[float, ...]:
    """Managers by rating (Tốt, Khá, Đạt, Chưa đạt)."""
    kha, dat, chua_dat = 0.52 - 0.01 * t, 0.044 * 0.88**t, 0.0015
    return (1 - kha - dat - chua_dat, kha, dat, chua_dat)


def _rising(start: float, step: float, ceiling: float) -> Callable[[int], float]:
    """A share that grows by `step` a year from `start` (2018-2019) and stops at `ceiling`."""
    return lambda t: min(start + step * t, ceiling)


def _constant(share: float) -> Callable[[int], float]:
    """A share that stays the same every year."""
    return lambda t: share


# In dependency order: a rule's bound is filled before the rule.
_DERIVED: tuple[Split | Subset, ...] = (
    Split("cbql_tong", tuple(f"cbql_td_{k}" for k in _TD), _cbql_qualification, (-1, -1, 0, 1, 2)),
    Split("gv_tong", tuple(f"gv_td_{k}" for k in _TD), _gv_qualification, (-1, -1, 0, 1, 2)),
    Split(
        "gv_tong",
        ("gv_hang_1", "gv_hang_2", "gv_hang_3", "gv_hang_4", "gv_chua_xep_hang"),
        _gv_ranks,
        (2, 1, 0, -0.5, -1),
    ),
    Subset("cbql_bien_che", ("cbql_tong",), _constant(1.0), tilt=0, public_only=True),
    Subset("gv_bien_che", ("gv_tong",), _constant(0.972), tilt=0, public_only=True),
    Subset("cbql_dang_vien", ("cbql_tong",), _rising(0.955, 0.008, 1.0)),
    Subset("gv_nghi_huu", ("gv_tong",), _constant(0.012), tilt=0),
    Subset("gv_tuyen_moi", ("gv_tong",), _constant(0.035), tilt=0),
    Subset("gv_duoc_danh_gia", ("gv_tong",), _constant(1.0), tilt=0),
    Split("gv_duoc_danh_gia", tuple(f"gv_{k}" for k in _LEVELS), _gv_ratings, (2, 0, -2, -3)),
    Subset("cbql_duoc_danh_gia", ("cbql_tong",), _constant(1.0), tilt=0),
    Split("cbql_duoc_danh_gia", tuple(f"cbql_{k}" for k in _LEVELS), _cbql_ratings, (2, 0, -2, -3)),
    Subset("gv_cot_can", ("gv_tong",), _constant(0.08)),
    Subset("cbql_cot_can", ("cbql_tong",), _constant(0.25)),
    Subset("cot_can_bd_ho_tro", ("gv_cot_can", "cbql_cot_can"), _rising(0.82, 0.03, 1.0), tilt=0),
    Subset("gv_bd_theo_chuan", ("gv_tong",), _rising(0.55, 0.06, 0.98)),
    Subset("cbql_bd_theo_chuan", ("cbql_tong",), _rising(0.65, 0.05, 1.0)),
    Subset("gv_hoan_thanh_bdtx", ("gv_tong",), _rising(0.94, 0.008, 0.995)),
    Subset("cbql_hoan_thanh_bdtx", ("cbql_tong",), _rising(0.97, 0.005, 1.0)),
    Subset("gv_tin_hoc", ("gv_tong",), _rising(0.6665, 0.035, 0.97)),
    Subset("cbql_tin_hoc", ("cbql_tong",), _rising(0.80, 0.025, 1.0)),
    Subset("gv_ngoai_ngu", ("gv_tong",), _rising(0.494, 0.04, 0.9)),
    Subset("cbql_ngoai_ngu", ("cbql_tong",), _rising(0.55, 0.04, 0.95)),
    Subset("gv_llct", ("gv_tong",), _rising(0.40, 0.03, 0.8)),
    Subset("cbql_llct", ("cbql_tong",), _rising(0.90, 0.01, 1.0)),
    Subset("gv_bo_nhiem_hang", ("gv_tong",), _constant(0.03), tilt=0),
    Subset("gv_bo_nhiem_hang_co_cc", ("gv_bo_nhiem_hang",), _rising(0.75, 0.04, 1.0), tilt=0),
    Subset("cbql_bo_nhiem", ("cbql_tong",), _constant(0.05), tilt=0),
    Subset("cbql_bo_nhiem_co_cc", ("cbql_bo_nhiem",), _rising(0.70, 0.05, 1.0), tilt=0),
)


Groups = dict[str, list[int]]  # group (district) -> indices of its rows


def _group_totals(total: int | None, expected: Sequence[float], caps: Sequence[int], groups: Groups) -> list[int]:
    """Each group's total of a column: `total` split over the groups by their expected sums within their
    room, or, when no total is given, each group's expected sum rounded (what a district alone gets)."""
    sums = [sum(expected[i] for i in rows) for rows in groups.values()]
    if total is None:
        return [round(x) for x in sums]
    return allocate(total, sums, [sum(caps[i] for i in rows) for rows in groups.values()])


def _allocate_in_groups(group_totals: Sequence[int], expected: Sequence[float], caps: Sequence[int],
                        groups: Groups) -> list[int]:
    """Each group's total split over its rows by their expected values, each row within its cap."""
    out = [0] * len(caps)
    for total, rows in zip(group_totals, groups.values(), strict=True):
        for i, v in zip(rows, allocate(total, [expected[i] for i in rows], [caps[i] for i in rows]), strict=True):
            out[i] = v
    return out


def _fill_split(rule: Split, rows: list[Row], quality: Sequence[float], t: int, totals: Mapping[str, int],
                groups: Groups) -> None:
    """Fill the parts of `rule` in every row; their totals over `rows` are `totals` where given."""
    wholes = [int(r[rule.whole]) for r in rows]
    shares = [max(s, 0.0) for s in rule.shares(t)]
    expected = []
    for whole, q in zip(wholes, quality, strict=True):
        raw = [s * q**tilt for s, tilt in zip(shares, rule.tilts, strict=True)]
        expected.append([whole * x / sum(raw) for x in raw])
    columns = [[e[k] for e in expected] for k in range(len(rule.parts))]
    given = all(p in totals for p in rule.parts)
    if given and sum(totals[p] for p in rule.parts) != sum(wholes):
        raise ValueError(f"the parts of {rule.whole} add up to {sum(totals[p] for p in rule.parts)}, not {sum(wholes)}")
    # without given totals, each group's parts are its expected sums rounded to add up to its whole
    rounded = [
        allocate(sum(wholes[i] for i in members), [sum(c[i] for i in members) for c in columns],
                 [sum(wholes[i] for i in members)] * len(columns))
        for members in groups.values()
    ]
    room = list(wholes)
    # the largest part takes what is left in each school, so the sum rule holds exactly
    order = sorted(range(len(rule.parts)), key=lambda k: (sum(columns[k]), k))
    for k in order[:-1]:
        group_totals = (_group_totals(totals[rule.parts[k]], columns[k], room, groups) if given
                        else [parts[k] for parts in rounded])
        values = _allocate_in_groups(group_totals, columns[k], room, groups)
        for r, v in zip(rows, values, strict=True):
            r[rule.parts[k]] = v
        room = [x - v for x, v in zip(room, values, strict=True)]
    for r, v in zip(rows, room, strict=True):
        r[rule.parts[order[-1]]] = v


def _fill_subset(rule: Subset, rows: list[Row], quality: Sequence[float], t: int, totals: Mapping[str, int],
                 groups: Groups) -> None:
    """Fill column `rule.key` in every row; its total over `rows` is `totals[rule.key]` where given."""
    share = min(max(rule.share(t), 0.0), 1.0)
    caps = [0 if rule.public_only and r["loai_hinh"] != "cong_lap" else sum(int(r[b]) for b in rule.bound)
            for r in rows]
    expected = [min(cap, cap * share * q**rule.tilt) for cap, q in zip(caps, quality, strict=True)]
    group_totals = _group_totals(totals.get(rule.key), expected, caps, groups)
    for r, v in zip(rows, _allocate_in_groups(group_totals, expected, caps, groups), strict=True):
        r[rule.key] = v


def fill_derived(rows: list[Row], quality: Sequence[float], t: int, totals: Mapping[str, int] | None = None,
                 groups: Sequence[str] | None = None) -> None:
    """Fill every column that counts part of a school's people (year index `t`).

    `groups` names each row's district (default: one district). A district's total of a column is the
    rounded sum of its schools' expected values, as a district generated alone gets; where `totals`
    gives the column's total over all `rows`, that total is split over the districts by their expected
    sums instead. Every sum and ≤ rule of the template holds in every row.
    """
    members: Groups = {}
    for i, group in enumerate(groups or [""] * len(rows)):
        members.setdefault(group, []).append(i)
    for rule in _DERIVED:
        if isinstance(rule, Split):
            _fill_split(rule, rows, quality, t, totals or {}, members)
        else:
            _fill_subset(rule, rows, quality, t, totals or {}, members)


# ---------------------------------------------------------------- schools


def _rng(seed: int, *parts: str) -> random.Random:
    """A random stream of its own for (seed, parts); string seeds are hashed with SHA-512, so the stream
    is the same in every process."""
    return random.Random("|".join((str(seed), *parts)))


def year_index(nam_hoc: str) -> int:
    """Years since the baseline school year 2018-2019; ValueError unless `nam_hoc` is `YYYY-YYYY+1`."""
    match = re.fullmatch(r"(\d{4})-(\d{4})", nam_hoc)
    if not match or int(match[2]) != int(match[1]) + 1:
        raise ValueError(f"năm học {nam_hoc!r} không đúng dạng YYYY-YYYY+1 / school year must be YYYY-YYYY+1")
    return int(match[1]) - BASE_YEAR


@dataclass(frozen=True)
class SchoolTraits:
    """What stays of a school from year to year, drawn once from its own stream."""

    lop_mau_giao: float  # kindergarten classes in 2018-2019, before the yearly jitter
    nhom_tre: int  # nursery groups in 2018-2019
    nhom_phase: float  # in [0, 1): staggers the years in which schools open their next group
    tre_per_lop: float
    tre_per_nhom: float
    share_5_tuoi: float  # five-year-olds among kindergarten children
    share_lop_5_tuoi: float  # five-year-old classes among kindergarten classes
    gv_per_lop: float
    cbql: int
    nv_per_lop: float
    quality: float  # above 1: better qualified and rated staff than the province's trend
    chuan_qg_from: int  # year index from which the school meets the national standard


def school_traits(seed: int, school: Mapping[str, str]) -> SchoolTraits:
    """The traits of a registry school; private schools are smaller and less staffed."""
    rng = _rng(seed, "school", school["ma_truong"])
    if school["loai_hinh"] == "cong_lap":
        lop, nhom = rng.uniform(8.5, 20.5), rng.choice((0, 1, 2, 2, 2, 2, 3, 3, 4))
        return SchoolTraits(
            lop_mau_giao=lop,
            nhom_tre=nhom,
            nhom_phase=rng.random(),
            tre_per_lop=rng.uniform(24.0, 29.0),
            tre_per_nhom=rng.uniform(19.0, 25.0),
            share_5_tuoi=rng.uniform(0.33, 0.39),
            share_lop_5_tuoi=rng.uniform(0.30, 0.40),
            gv_per_lop=rng.uniform(1.17, 1.42),
            cbql=2 if lop + nhom < 11 else 3 if lop + nhom < 21 else 4,
            nv_per_lop=rng.uniform(0.17, 0.26),
            quality=rng.uniform(0.85, 1.2),
            chuan_qg_from=rng.randint(-6, 0) if rng.random() < 0.3 else rng.randint(1, 16),
        )
    return SchoolTraits(
        lop_mau_giao=rng.uniform(2.5, 6.5),
        nhom_tre=rng.choice((1, 1, 2)),
        nhom_phase=rng.random(),
        tre_per_lop=rng.uniform(17.0, 23.0),
        tre_per_nhom=rng.uniform(14.0, 19.0),
        share_5_tuoi=rng.uniform(0.33, 0.39),
        share_lop_5_tuoi=rng.uniform(0.30, 0.40),
        gv_per_lop=rng.uniform(1.05, 1.3),
        cbql=rng.choice((1, 2, 2)),
        nv_per_lop=rng.uniform(0.2, 0.35),
        quality=rng.uniform(0.7, 1.0),
        chuan_qg_from=rng.randint(2, 10) if rng.random() < 0.1 else 99,
    )


def _classes_5_tuoi(lop_mau_giao: int, tre_5_tuoi: int, share: float) -> int:
    """Five-year-old classes: the school's usual share, kept to 5..45 children a class."""
    low = max(1, math.ceil(tre_5_tuoi / 45))
    high = min(lop_mau_giao, tre_5_tuoi // 5)
    return min(max(round(lop_mau_giao * share), low), high)


def school_counts(traits: SchoolTraits, t: int, rng: random.Random) -> Row:
    """Classes, children and staff of a school in year index `t`; `rng` is the school-year stream."""
    lop = max(2, round(traits.lop_mau_giao * (1 + 0.008 * t)) + rng.choice((-1, 0, 0, 0, 0, 1)))
    # nursery enrolment is the plans' priority: groups grow about 5.5 % a year
    nhom = int(traits.nhom_tre * 1.055**t + traits.nhom_phase) if traits.nhom_tre else 0
    tre_mg = round(lop * traits.tre_per_lop * rng.uniform(0.97, 1.03))
    tre_5 = min(tre_mg, round(tre_mg * traits.share_5_tuoi * rng.uniform(0.98, 1.02)))
    lop_nhom = lop + nhom
    gv = round(lop_nhom * traits.gv_per_lop * (1 + 0.006 * t) * rng.uniform(0.98, 1.02))
    return {
        "dat_chuan_qg": int(t >= traits.chuan_qg_from),
        "so_nhom_tre": nhom,
        "so_lop_mau_giao": lop,
        "so_lop_5_tuoi": _classes_5_tuoi(lop, tre_5, traits.share_lop_5_tuoi),
        "tre_nha_tre": round(nhom * traits.tre_per_nhom * rng.uniform(0.97, 1.03)),
        "tre_mau_giao": tre_mg,
        "tre_5_tuoi": tre_5,
        "cbql_tong": traits.cbql,
        "gv_tong": min(max(gv, math.ceil(lop_nhom / 2)), 4 * lop_nhom),
        "nv_tong": max(1, round(lop_nhom * traits.nv_per_lop)),
    }


def _model_rows(
    province: ProvinceConfig, ma_don_vi: str, nam_hoc: str, seed: int
) -> tuple[list[Row], list[float]]:
    """The schools of a district open in `nam_hoc` with their own counts, and their quality traits."""
    t = year_index(nam_hoc)
    schools = province.open_schools(ma_don_vi, nam_hoc)
    rows, quality = [], []
    for school, identity in zip(schools, school_identity_rows(schools), strict=True):
        traits = school_traits(seed, school)
        rows.append(
            {**identity, **school_counts(traits, t, _rng(seed, "school", school["ma_truong"], nam_hoc))}
        )
        quality.append(traits.quality)
    return rows, quality


def _mid_year(rows: list[Row], seed: int, nam_hoc: str) -> list[Row]:
    """The HKI rows of a school year from its CN rows: some children enrol only in the second half."""
    out = []
    for r in rows:
        rng = _rng(seed, "school", str(r["ma_truong"]), nam_hoc, "HKI")
        h = dict(r)
        for key in ("tre_nha_tre", "tre_mau_giao", "tre_5_tuoi"):
            h[key] = int(r[key]) - math.floor(int(r[key]) * rng.uniform(0.0, 0.03))
        h["tre_5_tuoi"] = min(int(h["tre_5_tuoi"]), int(h["tre_mau_giao"]))
        h["so_lop_5_tuoi"] = min(int(r["so_lop_5_tuoi"]), int(h["tre_5_tuoi"]) // 5)
        out.append(h)
    return out


# ---------------------------------------------------------------- district header and courses


def _sum(rows: Sequence[Row], key: str) -> int:
    return sum(int(r[key]) for r in rows)


def _populations(rows: Sequence[Row], seed: int, ma_don_vi: str, t: int) -> dict[str, int]:
    """District populations by age group, from its enrolment and the year's enrolment rates."""
    rng = _rng(seed, "district", ma_don_vi)
    rate_nha_tre = min(0.182 * 1.065**t * rng.uniform(0.85, 1.15), 0.6)
    rate_mau_giao = min(0.962 + 0.0025 * t + rng.uniform(-0.015, 0.015), 0.995)
    rate_5_tuoi = min(0.990 + 0.001 * t + rng.uniform(-0.004, 0.004), 0.999)
    dan_so_3_5 = round(_sum(rows, "tre_mau_giao") / rate_mau_giao)
    tre_nha_tre = _sum(rows, "tre_nha_tre")
    return {
        # a district without nursery groups still has infants: about two thirds of the 3-5 cohort
        "dan_so_0_2": round(tre_nha_tre / rate_nha_tre) if tre_nha_tre else round(dan_so_3_5 * 0.66),
        "dan_so_3_5": dan_so_3_5,
        "dan_so_5": min(round(_sum(rows, "tre_5_tuoi") / rate_5_tuoi), dan_so_3_5),
    }


def _header(
    province: ProvinceConfig,
    district: Mapping[str, str],
    nam_hoc: str,
    ky_bao_cao: str,
    seed: int,
    populations: Mapping[str, int],
    template_version: str,
) -> dict[str, object]:
    """The ThongTin values: who filled the workbook, when (a few days before the deadline), populations."""
    rng = _rng(seed, "district", district["ma_don_vi"], "header")
    ngay_lap = province.deadline(nam_hoc, ky_bao_cao) - dt.timedelta(
        days=_rng(seed, "ngay_lap", district["ma_don_vi"], nam_hoc, ky_bao_cao).randint(1, 12)
    )
    return {
        "phien_ban": template_version,
        "ma_don_vi": district["ma_don_vi"],
        "ten_don_vi": district["ten_don_vi"],
        "nam_hoc": nam_hoc,
        "ky_bao_cao": ky_bao_cao,
        "nguoi_lap": rng.choice(_NGUOI_LAP),
        "dien_thoai": f"0212 3{rng.randint(100, 999)} {rng.randint(100, 999)}",
        "email": district["email"],
        "ngay_lap": ngay_lap,
        **populations,
    }


# (name, form, share of the district's managers and teachers, source of funds, million đồng a participant)
_COURSES = (
    ("Bồi dưỡng chính trị hè {summer}", "chinh_tri", 0.30, "ngan_sach", 0.15),
    ("Bồi dưỡng chuyên môn: thực hiện Chương trình giáo dục mầm non", "chuyen_mon", 0.22, "ngan_sach", 0.25),
    ("Bồi dưỡng thường xuyên qua mạng: các mô đun năm học {nam_hoc}", "truc_tuyen", 0.55, "khac", 0.0),
    ("Tăng cường tiếng Việt cho trẻ mầm non vùng dân tộc thiểu số", "chuyen_mon", 0.12, "xa_hoi_hoa", 0.2),
)


def _courses(rows: Sequence[Row], seed: int, ma_don_vi: str, nam_hoc: str) -> list[Row]:
    """The district's training courses of the school year, sized to its staff."""
    rng = _rng(seed, "courses", ma_don_vi, nam_hoc)
    staff = _sum(rows, "gv_tong") + _sum(rows, "cbql_tong")
    out = []
    for name, form, share, source, cost in _COURSES:
        participants = max(1, round(staff * share * rng.uniform(0.95, 1.05)))
        out.append(
            {
                "ten_lop": name.format(summer=nam_hoc[5:], nam_hoc=nam_hoc),
                "hinh_thuc": form,
                "so_hoc_vien": participants,
                "so_hoan_thanh": participants - rng.randint(0, min(3, participants - 1)),
                "kinh_phi": round(participants * cost * rng.uniform(0.9, 1.1), 1),
                "nguon_kinh_phi": source,
            }
        )
    return out


def _write_district(
    out_path: Path,
    district: Mapping[str, str],
    header: Mapping[str, object],
    rows: list[Row],
    courses: list[Row],
    ky_bao_cao: str,
    layout: Layout,
) -> Path:
    """One district workbook; DanhGiaChuan has header rows only in HKI (rating is done at year end)."""
    tables = {
        "TruongLop": rows,
        "DoiNgu": rows,
        "BoiDuong": rows,
        "LopBoiDuong": courses,
        "DanhGiaChuan": rows if ky_bao_cao == "CN" else [],
    }
    ngay_lap = header["ngay_lap"]
    return write_workbook(
        out_path,
        header,
        tables,
        title_suffix=(
            f" – {district['ten_don_vi']} – năm học {header['nam_hoc']}, {KY_BAO_CAO_TEXT[ky_bao_cao]}"
        ),
        created=dt.datetime.combine(ngay_lap, dt.time(8, 0)),
        layout=layout,
    )


def _check_round(ky_bao_cao: str) -> None:
    if ky_bao_cao not in ROUNDS:
        raise ValueError(f"kỳ báo cáo {ky_bao_cao!r} phải là HKI hoặc CN / round must be HKI or CN")


# ---------------------------------------------------------------- public API


def generate_district_workbook(
    province: ProvinceConfig, ma_don_vi: str, nam_hoc: str, ky_bao_cao: str, out_path: Path, *, seed: int = 0,
    template_version: str | None = None,
) -> Path:
    """Write a valid demo workbook of district `ma_don_vi` for (nam_hoc, ky_bao_cao) to `out_path`, of a template
    version (default: the current one; a column the model does not fill, a new version's, is left empty).

    Every registry school of the district open in `nam_hoc` appears once in every school sheet
    (DanhGiaChuan is empty in HKI); every rule of the template holds. Same arguments, same bytes.
    ValueError for an unknown district, a malformed school year or round.
    """
    district = district_record(province, ma_don_vi)
    _check_round(ky_bao_cao)
    t = year_index(nam_hoc)
    rows, quality = _model_rows(province, ma_don_vi, nam_hoc, seed)
    fill_derived(rows, quality, t)
    populations = _populations(rows, seed, ma_don_vi, t)
    courses = _courses(rows, seed, ma_don_vi, nam_hoc)
    if ky_bao_cao == "HKI":
        rows = _mid_year(rows, seed, nam_hoc)
    layout = load_layout(template_version)
    header = _header(province, district, nam_hoc, ky_bao_cao, seed, populations, layout.template_version)
    return _write_district(out_path, district, header, rows, courses, ky_bao_cao, layout)


def workbook_name(ma_don_vi: str, nam_hoc: str, ky_bao_cao: str) -> str:
    """The demo file name of a district and period: `<ma_don_vi>_<nam_hoc>_<ky_bao_cao>.xlsx`."""
    return f"{ma_don_vi}_{nam_hoc}_{ky_bao_cao}.xlsx"


def generate_province(
    province: ProvinceConfig,
    nam_hoc: str,
    ky_bao_cao: str,
    out_dir: Path,
    *,
    seed: int = 0,
    districts: list[str] | None = None,
) -> list[Path]:
    """One demo workbook per district (all registry districts, or `districts`) in `out_dir`."""
    codes = districts if districts is not None else [d["ma_don_vi"] for d in province.districts]
    return [
        generate_district_workbook(
            province, code, nam_hoc, ky_bao_cao, out_dir / workbook_name(code, nam_hoc, ky_bao_cao), seed=seed
        )
        for code in codes
    ]


def generate_baseline_province(province: ProvinceConfig, out_dir: Path, *, seed: int = 0) -> list[Path]:
    """The CN 2018-2019 workbooks of every district whose rows add up to Sơn La's published May-2019 figures.

    The province totals (`_BASELINE_TOTALS`, `_BASELINE_POPULATION`, `_BASELINE_BIEN_CHE`) are split over
    the schools by largest remainder, weighted by the 2018-2019 model values, and the populations over
    the districts by their enrolment; so the province roll-up (ratios of sums) reproduces every figure
    of SON_LA_2019_BASELINE at its published decimals. Meant for the Sơn La registry (228 schools).
    """
    t = year_index(BASELINE_NAM_HOC)
    districts = province.districts
    rows: list[Row] = []
    quality: list[float] = []
    owner: list[str] = []
    for district in districts:
        district_rows, district_quality = _model_rows(province, district["ma_don_vi"], BASELINE_NAM_HOC, seed)
        rows += district_rows
        quality += district_quality
        owner += [district["ma_don_vi"]] * len(district_rows)
    _rescale_base_columns(rows, owner)
    public_cbql = sum(int(r["cbql_tong"]) for r in rows if r["loai_hinh"] == "cong_lap")
    fill_derived(
        rows,
        quality,
        t,
        {**_BASELINE_TOTALS, "cbql_bien_che": public_cbql, "gv_bien_che": _BASELINE_BIEN_CHE - public_cbql},
        groups=owner,
    )
    by_district = {
        d["ma_don_vi"]: [r for r, o in zip(rows, owner, strict=True) if o == d["ma_don_vi"]]
        for d in districts
    }
    populations = _split_populations(by_district, seed, t)
    paths = []
    layout = load_layout()
    for district in districts:
        code = district["ma_don_vi"]
        header = _header(province, district, BASELINE_NAM_HOC, "CN", seed, populations[code], layout.template_version)
        courses = _courses(by_district[code], seed, code, BASELINE_NAM_HOC)
        paths.append(
            _write_district(
                out_dir / workbook_name(code, BASELINE_NAM_HOC, "CN"),
                district,
                header,
                by_district[code],
                courses,
                "CN",
                layout,
            )
        )
    return paths


def _rescale_base_columns(rows: list[Row], owner: Sequence[str]) -> None:
    """Replace the model's classes, children and staff by the baseline totals: each total split over the
    districts, then over their schools, in proportion to the model values.

    Bounds keep children at most 45 a class and five-year-olds among the kindergarten children; the
    five-year-old classes are then refitted to the new counts.
    """
    groups: Groups = {}
    for i, code in enumerate(owner):
        groups.setdefault(code, []).append(i)
    share_lop_5_tuoi = [int(r["so_lop_5_tuoi"]) / int(r["so_lop_mau_giao"]) for r in rows]
    for key in _BASE_COLUMNS:
        total = _BASELINE_TOTALS[key]
        model = [float(r[key]) for r in rows]
        caps = [_baseline_bound(key, r, total) for r in rows]
        values = _allocate_in_groups(_group_totals(total, model, caps, groups), model, caps, groups)
        for r, v in zip(rows, values, strict=True):
            r[key] = v
    for r, share in zip(rows, share_lop_5_tuoi, strict=True):
        r["so_lop_5_tuoi"] = _classes_5_tuoi(int(r["so_lop_mau_giao"]), int(r["tre_5_tuoi"]), share)


def _baseline_bound(key: str, row: Row, total: int) -> int:
    """How much of column `key` a school can take: at most 45 children a class, five-year-olds among the
    kindergarten children; `total` where the template sets no bound."""
    bounds = {
        "tre_nha_tre": ("so_nhom_tre", 45),
        "tre_mau_giao": ("so_lop_mau_giao", 45),
        "tre_5_tuoi": ("tre_mau_giao", 1),
    }
    if key not in bounds:
        return total
    column, per_unit = bounds[key]
    return per_unit * int(row[column])


def _split_populations(by_district: Mapping[str, Sequence[Row]], seed: int, t: int) -> dict[str, dict[str, int]]:
    """The baseline populations split over the districts in proportion to the model's populations, so
    enrolment rates differ between districts as in the demo years."""
    model = {code: _populations(rows, seed, code, t) for code, rows in by_district.items()}
    out: dict[str, dict[str, int]] = {code: {} for code in by_district}
    for key, total in _BASELINE_POPULATION.items():
        shares = allocate(total, [float(m[key]) for m in model.values()], [total] * len(model))
        for code, value in zip(by_district, shares, strict=True):
            out[code][key] = value
    return out
