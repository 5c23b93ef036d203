"""Load the province configuration (registry, indicators, targets, norms, deadlines) into core dimensions.

Idempotent: every run upserts the same rows, so `tonghop` can call it before each command.
"""

from __future__ import annotations

import csv
import datetime as dt

import sqlalchemy as sa

from etl.config import PROJECT_ROOT, ProvinceConfig, ProvinceConfigError, Settings
from etl.migrations import sql_path
from etl.rollup import rebuild_marts_in
from etl.warehouse import run_script

INDICATORS_FILE = PROJECT_ROOT / "config" / "indicators.csv"
FIRST_START_YEAR = 2010  # school years known to the warehouse: 2010-2011 ..
LAST_START_YEAR = 2035


def school_years(first: int = FIRST_START_YEAR, last: int = LAST_START_YEAR) -> list[str]:
    return [f"{y}-{y + 1}" for y in range(first, last + 1)]


def current_school_year(today: dt.date) -> str:
    """The school year running on a date; a new one starts in August, when schools enrol."""
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


def read_indicators() -> list[dict[str, str]]:
    with open(INDICATORS_FILE, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def reporting_periods(province: ProvinceConfig, today: dt.date) -> list[dict[str, object]]:
    """Every (school year, round) from the province's first reporting year to the current one, with its deadline."""
    first = int(str(province.meta.get("first_nam_hoc", "2018-2019"))[:4])
    last = int(current_school_year(today)[:4])
    return [
        {"nam_hoc": f"{y}-{y + 1}", "ky_bao_cao": ky, "deadline": province.deadline(f"{y}-{y + 1}", ky)}
        for y in range(first, last + 1)
        for ky in ("HKI", "CN")
    ]


def load_province(engine: sa.Engine, province: ProvinceConfig, *, today: dt.date | None = None) -> None:
    """Upsert the province, its districts and schools, indicators, targets, norms and periods."""
    today = today or dt.date.today()
    province.check()
    meta = province.meta
    with engine.begin() as c:
        _replace_other_province(c, province)
        c.execute(
            sa.text(
                "insert into core.province (ma_tinh, slug, ten_tinh) values (:ma_tinh, :slug, :ten_tinh) "
                "on conflict (ma_tinh) do update set slug = excluded.slug, ten_tinh = excluded.ten_tinh"
            ),
            {"ma_tinh": province.ma_tinh, "slug": province.slug, "ten_tinh": meta["ten_tinh"]},
        )
        c.execute(
            sa.text(
                "insert into core.school_year (nam_hoc, start_year) values (:nam_hoc, :start_year) "
                "on conflict do nothing"
            ),
            [{"nam_hoc": y, "start_year": int(y[:4])} for y in school_years()],
        )
        if province.districts:
            c.execute(
                sa.text(
                    "insert into core.district (ma_don_vi, ten_don_vi, email, ma_tinh) "
                    "values (:ma_don_vi, :ten_don_vi, :email, :ma_tinh) on conflict (ma_don_vi) do update "
                    "set ten_don_vi = excluded.ten_don_vi, email = excluded.email, ma_tinh = excluded.ma_tinh"
                ),
                [{**d, "ma_tinh": province.ma_tinh} for d in province.districts],
            )
        if province.schools:
            c.execute(
                sa.text(
                    "insert into core.school (ma_truong, ten_truong, ma_don_vi, loai_hinh, mo_tu_nam_hoc, "
                    "dong_tu_nam_hoc) values (:ma_truong, :ten_truong, :ma_don_vi, :loai_hinh, "
                    ":mo_tu_nam_hoc, nullif(:dong_tu_nam_hoc, '')) on conflict (ma_truong) do update set "
                    "ten_truong = excluded.ten_truong, ma_don_vi = excluded.ma_don_vi, "
                    "loai_hinh = excluded.loai_hinh, mo_tu_nam_hoc = excluded.mo_tu_nam_hoc, "
                    "dong_tu_nam_hoc = excluded.dong_tu_nam_hoc"
                ),
                # a school with several rows (moved to another district, renamed) is its latest in core.school
                sorted(province.schools, key=lambda school: school["mo_tu_nam_hoc"]),
            )
        c.execute(
            sa.text(
                "insert into core.indicator (indicator, label_vi, unit, higher_is_better, numerator, denominator) "
                "values (:indicator, :label_vi, :unit, cast(nullif(:higher_is_better, '') as boolean), "
                ":numerator, nullif(:denominator, '')) on conflict (indicator) do update set "
                "label_vi = excluded.label_vi, unit = excluded.unit, higher_is_better = excluded.higher_is_better, "
                "numerator = excluded.numerator, denominator = excluded.denominator"
            ),
            read_indicators(),
        )
        # Targets are replaced as a whole: the configuration is the single source.
        c.execute(sa.text("delete from core.target"))
        if province.targets:
            c.execute(
                sa.text(
                    "insert into core.target (unit_type, unit_code, indicator, target_value, target_nam_hoc, "
                    "baseline_nam_hoc, phase, seed) values (:unit_type, :unit_code, :indicator, "
                    "cast(:target_value as numeric), :target_nam_hoc, nullif(:baseline_nam_hoc, ''), :phase, :seed)"
                ),
                [
                    {**t, "unit_code": t["ma_don_vi"] if t["unit_type"] == "district" else province.ma_tinh}
                    for t in province.targets
                ],
            )
        # the target applying to each unit and school year follows the targets, not the submissions (a
        # warehouse not yet migrated to 0005 has no such table: migration 0008 fills it from core.target)
        if c.exec_driver_sql("select to_regclass('mart.unit_target') is not null").scalar():
            run_script(c, sql_path("rollup", "unit_target.sql").read_text(encoding="utf-8"))
        norms = province.norms
        norm_changed = c.execute(
            sa.text(
                "insert into core.norm (ma_tinh, gv_per_nhom_tre, gv_per_lop_mau_giao) values (:m, :a, :b) "
                "on conflict (ma_tinh) do update set gv_per_nhom_tre = excluded.gv_per_nhom_tre, "
                "gv_per_lop_mau_giao = excluded.gv_per_lop_mau_giao where (core.norm.gv_per_nhom_tre, "
                "core.norm.gv_per_lop_mau_giao) is distinct from (excluded.gv_per_nhom_tre, "
                "excluded.gv_per_lop_mau_giao) returning 1"
            ),
            {"m": province.ma_tinh, "a": norms["gv_per_nhom_tre"], "b": norms["gv_per_lop_mau_giao"]},
        ).first() is not None
        # thieu_gv is summed per school with the norm (mart.district_sums): a changed norm changes every
        # period's figure, and the nightly roll-up rebuilds only the periods that received files, so the
        # others kept the old norm's shortage, next to new periods counted with the new one
        if norm_changed and c.exec_driver_sql("select to_regclass('mart.district_sums') is not null").scalar():
            rebuild_marts_in(c)
        c.execute(
            sa.text(
                "insert into core.reporting_period (nam_hoc, ky_bao_cao, deadline) "
                "values (:nam_hoc, :ky_bao_cao, :deadline) on conflict (nam_hoc, ky_bao_cao) "
                "do update set deadline = excluded.deadline"
            ),
            reporting_periods(province, today),
        )


def _replace_other_province(c: sa.Connection, province: ProvinceConfig) -> None:
    """A warehouse holds one province: the province rows sum every district (mart.unit_sums) and the roll-up
    reads the one staffing norm. Loading another province (TONGHOP_PROVINCE changed, or a warehouse first
    started with the default son-la) replaces the one there only while no file has been received; after
    that it is refused, naming both, rather than mixing two provinces' districts into one total."""
    other = c.execute(sa.text("select ma_tinh, slug, ten_tinh from core.province where ma_tinh <> :m"),
                      {"m": province.ma_tinh}).first()
    if other is None:
        return
    received = c.execute(sa.text("select count(*) from dq.submission")).scalar()
    if received:
        raise ProvinceConfigError(
            f"kho dữ liệu này là của tỉnh {other.ten_tinh} (mã {other.ma_tinh}, TONGHOP_PROVINCE={other.slug}) "
            f"và đã nhận {received} tệp; TONGHOP_PROVINCE={province.folder.name} là tỉnh "
            f"{province.meta['ten_tinh']} (mã {province.ma_tinh}). Mỗi kho dữ liệu chỉ chứa một tỉnh: đặt lại "
            f"TONGHOP_PROVINCE={other.slug}, hoặc dùng kho dữ liệu khác cho {province.meta['ten_tinh']} "
            f"(WAREHOUSE_URL, hoặc TONGHOP_HOME khác cho kho nhúng).")
    params = {"m": other.ma_tinh}
    c.execute(sa.text("delete from core.school where ma_don_vi in "
                      "(select ma_don_vi from core.district where ma_tinh = :m)"), params)
    for table in ("district", "norm", "province"):
        c.execute(sa.text(f"delete from core.{table} where ma_tinh = :m"), params)


def ready_warehouse(settings: Settings) -> sa.Engine:
    """The engine of a warehouse ready for work: migrations applied and the province configuration loaded.
    What every command and task needs before it touches the warehouse."""
    from etl import warehouse

    engine = warehouse.prepare(settings)
    load_province(engine, settings.province_config())
    return engine
