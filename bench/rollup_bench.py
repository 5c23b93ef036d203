"""Roll-up speed: `etl.rollup.rebuild_marts` against a plain GROUP BY over the same fact table, same run.

Run: `python -m bench.rollup_bench` (both cases), `--province-only`, `--explain` (EXPLAIN ANALYZE of the
roll-up statements). Cases, each on a fresh benchmark database (bench/common.py):
- province: the Sơn La demo warehouse, 7 school years (2018-2019 .. 2024-2025) x HKI and CN, workbooks
  written by `generate_province`, read by `read_workbooks`, loaded and published by `etl.load` (the
  validation step is skipped: the generated workbooks are valid by construction);
- national: a synthetic warehouse built in SQL (generate_series): 34 provinces x 15 districts x 30 schools
  = 15,300 schools, 7 school years x 2 rounds = 214,200 rows of core.fact_school_period, with their
  dq.submission, core.current_submission, core.fact_district_period and 2 training courses per district
  and period. The warehouse holds one province's configuration (core.province and core.norm have one row,
  and the roll-up cross-joins core.norm), so the 510 synthetic districts all belong to Sơn La here: the
  "province" roll-up of this case is the national total, with Sơn La's province targets.
Measured, median of several runs, after ANALYZE:
- floor: `GROUP BY nam_hoc, ky_bao_cao, ma_don_vi` with count(*) and the sums of the 56 count columns,
  inserted into a temporary table kept for the session (as the roll-up keeps its period table: creating a
  table per run would add catalog work to the floor, 3 ms of a province's 6), measured with the server's
  default settings and with the roll-up's work_mem; the faster of the two is the floor (the plans differ:
  an index-ordered GroupAggregate, or a hash aggregate);
- floor with grouping sets (district and province level, as the roll-up groups): info;
- `rebuild_marts`: the whole roll-up, committed: the district sums (mart.district_sums), which
  mart.district_indicator and mart.province_indicator (~65 indicators per unit) are views over, the province
  rows summed on read; before each run (untimed) mart.district_sums is vacuumed, as autovacuum does after
  every rebuild (`vacuum_marts`);
- reading every row of each indicator view (info): what the views cost an analyst or a report.
Targets (issue): within 2x of the plain GROUP BY; national under 10 s. When a target is missed, each
statement of sql/rollup/district_sums.sql is timed on its own, to show where the time goes.
"""

from __future__ import annotations

import argparse
import re
import time
from contextlib import nullcontext

import sqlalchemy as sa

from bench import load_bench
from bench.common import (
    Result,
    alternating_medians,
    bench_database,
    bench_server,
    print_results,
    within,
)
from etl import load
from etl.config import PROJECT_ROOT, ProvinceConfig
from etl.layout import load_layout
from etl.migrations import sql_path
from etl.rollup import PERIOD_TABLE, ROLLUP_SCRIPTS, rebuild_marts
from etl.warehouse import run_script

SCHOOL_YEARS = [f"{y}-{y + 1}" for y in range(2018, 2025)]
ROUNDS = ("HKI", "CN")
PROVINCES, DISTRICTS_PER_PROVINCE, SCHOOLS_PER_DISTRICT = 34, 15, 30
TARGET_RATIO = 2.0
NATIONAL_LIMIT_S = 10.0
PROVINCE_REPEAT_FACTOR = 3
FACT_KEYS = ("ma_truong", "nam_hoc", "ky_bao_cao", "ma_don_vi", "submission_id", "loai_hinh")


def count_columns(engine: sa.Engine) -> list[str]:
    """The count columns of core.fact_school_period (everything but its keys and loai_hinh)."""
    with engine.connect() as c:
        columns = (
            c.execute(
                sa.text(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'core' and table_name = 'fact_school_period' order by ordinal_position"
                )
            )
            .scalars()
            .all()
        )
    return [name for name in columns if name not in FACT_KEYS]


def build_province(engine: sa.Engine) -> None:
    """The Sơn La demo warehouse: every period generated, read, loaded into staging and published."""
    layout = load_layout()
    son_la = ProvinceConfig(PROJECT_ROOT / "config" / "provinces" / "son-la")
    for nam_hoc in SCHOOL_YEARS:
        for ky_bao_cao in ROUNDS:
            submissions = load_bench.record_submissions(
                engine, load_bench.province_workbooks(son_la, nam_hoc, ky_bao_cao)
            )
            with engine.begin() as c:
                load.load_staging(c, layout, submissions)
                load.publish_accepted(c, [sid for sid, _ in submissions])


def build_national(engine: sa.Engine) -> None:
    """The synthetic national warehouse, set-based (see the module docstring)."""
    counts = count_columns(engine)
    # People in tens, classes and flags in units: plausible enough, never a zero denominator by design.
    scale = {"dat_chuan_qg": 2, "so_nhom_tre": 4, "so_lop_mau_giao": 9, "so_lop_5_tuoi": 4}
    values = ", ".join(f"floor(random() * {scale.get(name, 30)})::int" for name in counts)
    parameters = {
        "years": SCHOOL_YEARS,
        "rounds": list(ROUNDS),
        "provinces": PROVINCES,
        "districts": DISTRICTS_PER_PROVINCE,
        "schools": SCHOOLS_PER_DISTRICT,
    }
    statements = [
        "select setseed(0.2025)",
        "create temporary table bench_period on commit drop as "
        "select y.nam_hoc, r.ky_bao_cao from unnest(cast(:years as text[])) as y (nam_hoc) "
        "cross join unnest(cast(:rounds as text[])) as r (ky_bao_cao)",
        "insert into core.district (ma_don_vi, ten_don_vi, ma_tinh) "
        "select format('P%sD%s', lpad(p::text, 2, '0'), lpad(d::text, 2, '0')), format('Phòng GD&ĐT %s-%s', p, d), "
        "(select ma_tinh from core.province) "
        "from generate_series(1, :provinces) as p cross join generate_series(1, :districts) as d",
        "insert into core.school (ma_truong, ten_truong, ma_don_vi, loai_hinh, mo_tu_nam_hoc) "
        "select district.ma_don_vi || lpad(s::text, 3, '0'), 'Trường Mầm non số ' || s, district.ma_don_vi, "
        "case when s % 10 = 0 then 'tu_thuc' else 'cong_lap' end, '2010-2011' "
        "from core.district as district cross join generate_series(1, :schools) as s "
        "where district.ma_don_vi like 'P%'",
        "insert into dq.submission (file_name, sha256, size_bytes, archive_path, ma_don_vi, nam_hoc, ky_bao_cao, "
        "template_version, received_at, status) "
        "select district.ma_don_vi || '.xlsx', md5(district.ma_don_vi || period.nam_hoc || period.ky_bao_cao), 0, '', "
        "district.ma_don_vi, period.nam_hoc, period.ky_bao_cao, 'DA33-MN-v1', now(), 'accepted' "
        "from core.district as district cross join bench_period as period where district.ma_don_vi like 'P%'",
        "insert into core.current_submission (ma_don_vi, nam_hoc, ky_bao_cao, submission_id) "
        "select ma_don_vi, nam_hoc, ky_bao_cao, submission_id from dq.submission where ma_don_vi like 'P%'",
        "insert into core.fact_district_period (ma_don_vi, nam_hoc, ky_bao_cao, submission_id, nguoi_lap, "
        "dan_so_0_2, dan_so_3_5, dan_so_5) "
        "select ma_don_vi, nam_hoc, ky_bao_cao, submission_id, 'Nguyễn Thị Lan', "
        "3000 + floor(random() * 6000)::int, 3000 + floor(random() * 6000)::int, 1000 + floor(random() * 2000)::int "
        "from core.current_submission where ma_don_vi like 'P%'",
        "insert into core.fact_training_course (ma_don_vi, nam_hoc, ky_bao_cao, course_number, submission_id, "
        "ten_lop, hinh_thuc, so_hoc_vien, so_hoan_thanh, kinh_phi, nguon_kinh_phi) "
        "select ma_don_vi, nam_hoc, ky_bao_cao, n, submission_id, 'Lớp bồi dưỡng ' || n, "
        "(array['chinh_tri', 'chuyen_mon', 'truc_tuyen'])[1 + floor(random() * 3)::int], "
        "100 + floor(random() * 50)::int, 90, round((random() * 20)::numeric, 1), 'ngan_sach' "
        "from core.current_submission cross join generate_series(1, 2) as n where ma_don_vi like 'P%'",
        f"insert into core.fact_school_period ({', '.join(FACT_KEYS)}, {', '.join(counts)}) "
        "select school.ma_truong, current.nam_hoc, current.ky_bao_cao, school.ma_don_vi, current.submission_id, "
        f"school.loai_hinh, {values} "
        "from core.school as school join core.current_submission as current using (ma_don_vi) "
        "where school.ma_don_vi like 'P%'",
    ]
    with engine.begin() as c:
        for statement in statements:
            c.execute(sa.text(statement), parameters)


def analyze(engine: sa.Engine) -> int:
    """ANALYZE (as autovacuum would after a load); returns the number of fact rows."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("analyze")
        return c.execute(sa.text("select count(*) from core.fact_school_period")).scalar_one()


def group_by_sql(counts: list[str], *, grouping_sets: bool, work_mem: str | None = None) -> str:
    """The floor: the plain GROUP BY inserted into a temporary table made once per session (one round trip)."""
    sums = ", ".join(f"sum({name}) as {name}" for name in counts)
    keys = (
        "grouping sets ((nam_hoc, ky_bao_cao, ma_don_vi), (nam_hoc, ky_bao_cao))"
        if grouping_sets
        else "nam_hoc, ky_bao_cao, ma_don_vi"
    )
    select = (f"select nam_hoc, ky_bao_cao, ma_don_vi, count(*) as so_truong, {sums} "
              f"from core.fact_school_period group by {keys}")
    table = "floor_sets" if grouping_sets else "floor_sums"
    setting = [f"set local work_mem = '{work_mem}'"] if work_mem else []
    return ";\n".join([*setting,
                        f"create temporary table if not exists {table} on commit delete rows as {select} with no data",
                        f"insert into {table} {select}"])


def rollup_work_mem() -> str:
    """The work_mem the roll-up script sets for itself."""
    script = sql_path("rollup", "district_sums.sql").read_text(encoding="utf-8")
    match = re.search(r"set local work_mem = '([^']+)'", script)
    if match is None:
        raise SystemExit("sql/rollup/district_sums.sql sets no work_mem: update the floor of bench/rollup_bench.py")
    return match[1]


def vacuum_marts(engine: sa.Engine) -> None:
    """What autovacuum does after a roll-up (a rebuild rewrites every row of its periods, far past its 20 %
    threshold): without it, back-to-back rebuilds find each unit's dead rows of every earlier run in the
    primary key's uniqueness checks, which no nightly run meets (the floor's table is emptied by truncation)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("vacuum mart.district_sums")


def run_statement(engine: sa.Engine, sql: str) -> None:
    with engine.begin() as c:
        run_script(c, sql)


def rollup_statements() -> list[str]:
    """The statements of a roll-up of every period, in order (they end with `;` at the end of a line)."""
    statements = [PERIOD_TABLE]
    for name in ROLLUP_SCRIPTS:
        text = sql_path("rollup", name).read_text(encoding="utf-8")
        statements += [s.strip() for s in re.split(r";\s*\n", text) if s.strip()]
    return statements


def describe(statement: str) -> str:
    code = "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--"))
    return " ".join(code.split()[:4])


def profile_rollup(engine: sa.Engine, *, explain: bool) -> None:
    """Each roll-up statement timed on its own, in one transaction (rolled back); with `explain`, the
    EXPLAIN ANALYZE plan of each statement that takes more than a tenth of the time."""
    timings = []
    with engine.connect() as c, c.begin() as transaction:
        cursor = c.connection.dbapi_connection.cursor()
        for statement in rollup_statements():
            start = time.perf_counter()
            cursor.execute(statement)
            timings.append((describe(statement), time.perf_counter() - start, statement))
        transaction.rollback()
    total = sum(t for _, t, _ in timings)
    print(f"  roll-up statements timed one by one (total {total:.3f} s):")
    for what, seconds, _ in timings:
        print(f"    {seconds:7.3f} s  {100 * seconds / total:4.0f} %  {what}")
    if not explain:
        return
    with engine.connect() as c, c.begin() as transaction:
        cursor = c.connection.dbapi_connection.cursor()
        for what, seconds, statement in timings:
            if seconds > total / 10 and statement.lstrip().lower().startswith(("insert", "select", "delete")):
                cursor.execute(f"explain (analyze, buffers off, costs off) {statement}")
                print(f"\n  EXPLAIN ANALYZE {what}:")
                print("\n".join(f"    {row[0]}" for row in cursor.fetchall()))
            else:
                cursor.execute(statement)  # later statements read the temporary tables of earlier ones
        transaction.rollback()


def bench_case(engine: sa.Engine, label: str, repeat: int, *, explain: bool, limit_s: float | None) -> list[Result]:
    facts = analyze(engine)
    counts = count_columns(engine)
    marts = rebuild_marts(engine)
    # taken in turn, round after round (bench.common.alternating_medians): a drift of the shared machine
    # falls on all four alike
    work_mem = rollup_work_mem()
    medians = alternating_medians(
        {
            "floor_default": (lambda: run_statement(engine, group_by_sql(counts, grouping_sets=False)), None),
            "floor_work_mem": (
                lambda: run_statement(engine, group_by_sql(counts, grouping_sets=False, work_mem=work_mem)), None
            ),
            "floor_sets": (
                lambda: run_statement(engine, group_by_sql(counts, grouping_sets=True, work_mem=work_mem)), None
            ),
            "ours": (lambda: rebuild_marts(engine), lambda: vacuum_marts(engine)),
            "read_marts": (lambda: run_statement(engine, "select count(*), sum(value) from mart.district_indicator"),
                           None),
            # the province rows are summed from the district rows when read (migration 0009)
            "read_province": (
                lambda: run_statement(engine, "select count(*), sum(value) from mart.province_indicator"), None
            ),
        },
        repeat,
    )
    floor_default, floor_work_mem = medians["floor_default"], medians["floor_work_mem"]
    floor = min(floor_default, floor_work_mem)
    floor_sets, ours, read_marts, read_province = (
        medians[k] for k in ("floor_sets", "ours", "read_marts", "read_province")
    )
    case = f"{label} ({facts:,} facts)"
    print(
        f"\n{case}: {marts['district_indicator']:,} district and {marts['province_indicator']:,} province "
        f"indicator rows, median of {repeat} runs taken in turn"
    )
    for name, seconds in (
        ("plain GROUP BY, default settings", floor_default),
        (f"plain GROUP BY, work_mem {work_mem}", floor_work_mem),
        ("reading every district indicator row (the view)", read_marts),
        ("reading every province indicator row (the view)", read_province),
        ("GROUP BY GROUPING SETS", floor_sets),
        ("rebuild_marts", ours),
    ):
        print(f"  {name:<50} {seconds:7.3f} s {facts / seconds:>12,.0f} fact rows/s")
    results = [
        Result("rollup", f"{case}: GROUP BY grouping sets", floor_sets, floor, "info", None),
        Result(
            "rollup",
            f"{case}: rebuild_marts",
            ours,
            floor,
            f"≤ {TARGET_RATIO:g}× floor",
            within(ours, floor, TARGET_RATIO),
        ),
        Result("rollup", f"{case}: rebuild_marts vs grouping sets", ours, floor_sets, "info", None),
        Result("rollup", f"{case}: reading all of mart.district_indicator (view)", read_marts, floor, "info", None),
        Result("rollup", f"{case}: reading all of mart.province_indicator (view)", read_province, floor, "info", None),
    ]
    if limit_s is not None:
        results.append(
            Result("rollup", f"{case}: rebuild_marts, absolute", ours, None, f"< {limit_s:g} s", ours < limit_s)
        )
    if explain or not all(r.ok for r in results if r.ok is not None):
        profile_rollup(engine, explain=explain)
    return results


def run(
    *, province_only: bool = False, repeat: int = 3, explain: bool = False, server_url: str | None = None
) -> list[Result]:
    results = []
    with bench_server() if server_url is None else nullcontext(server_url) as url:
        with bench_database(url) as (_, engine):
            start = time.perf_counter()
            build_province(engine)
            print(f"province warehouse built in {time.perf_counter() - start:.1f} s")
            # a province roll-up takes milliseconds: more runs for a stable median, at no real cost
            results += bench_case(engine, "province", repeat * PROVINCE_REPEAT_FACTOR, explain=explain, limit_s=None)
        if not province_only:
            with bench_database(url) as (_, engine):
                start = time.perf_counter()
                build_national(engine)
                print(f"\nnational warehouse built in {time.perf_counter() - start:.1f} s")
                results += bench_case(engine, "national", repeat, explain=explain, limit_s=NATIONAL_LIMIT_S)
    return results


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province-only", action="store_true", help="skip the national warehouse")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the roll-up statements")
    args = parser.parse_args(argv)
    results = run(province_only=args.province_only, repeat=args.repeat, explain=args.explain)
    print_results(results, "roll-up")
    return results


if __name__ == "__main__":
    main()
