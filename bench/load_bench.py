"""Loading speed: `etl.load.load_staging` (and `publish_accepted`) against a bare COPY of the same rows.

Run: `python -m bench.load_bench` (both cases) or `python -m bench.load_bench --province-only`.
Cases, on a fresh benchmark database (bench/common.py):
- province night: the 12 Sơn La district workbooks of one round, written by `etl.generate.generate_province`
  and read together by `read_workbooks`;
- national night: 700 workbooks x 40 schools, made in memory from the province ones (rows replicated
  and perturbed, new district and school codes, new submission ids), and given, per chunk, the form
  `read_workbooks` gives workbooks read together (one stacked frame per sheet, each workbook's table a
  view of its rows: `read_together`). Their 700 districts and 28,000 schools are registered in core
  first, so the national case is measured with publishing too.
The dq.submission rows are inserted once, before timing. As in `etl.ingest`, submissions are loaded in
chunks of CHUNK_SIZE, one committed transaction per chunk. Measured in the same run, median of several
runs, tables emptied (untimed) before each run:
- floor: the staging rows, written beforehand as CSV in memory (Arrow), COPY'd in one transaction into
  plain copies of the staging tables (same columns, no keys, no indexes);
- indexed floor (info): the same, into copies with staging's indexes (BRIN, thong_tin's primary key);
- schema floor (info): the same prebuilt CSV COPY'd into staging itself;
- `load_staging`: the parsed workbooks' tables -> Arrow -> COPY text -> COPY (the whole Python side);
  target: within 2x of the floor (the issue: "within 2x of a bare COPY of the same rows");
- whole-step floor: every row the load step writes, staging and core (school, district and course facts,
  current submissions, taken from a finished run), prebuilt as CSV and COPY'd in one transaction into
  plain copies of those tables; the same into copies with the real tables' keys and indexes (info: what
  of the gap is index maintenance); the same into plain copies in two sessions at once, half of each
  table's rows each (info: the floor using both cores, as the night's step does);
- `load_staging` + `publish_accepted`: the load step of a night (staging, then set-based upserts into
  core in the same transaction), written as `etl.ingest` writes a night's chunks (`etl.pipeline.ChunkWriter`:
  a chunk's staging rows while the previous chunk publishes, on a second connection); target: within 2x of
  the whole-step floor, which is the bare COPY of the same rows for this step. Its ratio to the
  staging-only floor is printed too (info), and the same step run one chunk after the other (info);
- the same step for a resubmission night (info): a second submission of every district and period, whose
  publishing deletes the facts of the first (current, published untimed before each run). A night's first
  submissions replace nothing, and publishing skips those deletes then (sql/load/retire_replaced.sql).
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa

from bench.common import Result, alternating_medians, bench_database, print_results, within
from etl import load
from etl.config import PROJECT_ROOT, ProvinceConfig
from etl.generate import generate_province
from etl.ingest import CHUNK_SIZE
from etl.layout import Layout, SheetSpec, load_layout
from etl.model import ROW_NUMBER, ParsedWorkbook, StackArrays, Tables, TableView
from etl.pipeline import ChunkWriter
from etl.read import read_workbooks

NAM_HOC = "2023-2024"
KY_BAO_CAO = "CN"
SEED = 2025
NATIONAL_WORKBOOKS = 700
SCHOOLS_PER_WORKBOOK = 40
TARGET_RATIO = 2.0
FLOOR_SCHEMA = "bench_floor"
KEYED_FLOOR_SCHEMA = "bench_floor_keyed"
# A province night takes milliseconds, where one hiccup of the shared machine moves a median of 5 by 20-50 %
# (floors of 4 and 7 ms in back-to-back runs): more runs, as the read and roll-up benches take.
PROVINCE_REPEAT_FACTOR = 3
CORE_TABLES = ("current_submission", "fact_district_period", "fact_school_period", "fact_training_course")


def province_workbooks(
    province: ProvinceConfig, nam_hoc: str = NAM_HOC, ky_bao_cao: str = KY_BAO_CAO
) -> list[ParsedWorkbook]:
    """A province night: one generated workbook per registry district, read by the reader."""
    with tempfile.TemporaryDirectory(prefix="load-bench-") as folder:
        paths = generate_province(province, nam_hoc, ky_bao_cao, Path(folder), seed=SEED)
        workbooks = read_workbooks(paths)
    errors = [f.message for wb in workbooks for f in wb.findings if f.severity == "error"]
    if errors:
        raise SystemExit(f"generated workbooks do not read cleanly: {errors[:3]}")
    return workbooks


def national_district_code(i: int) -> str:
    return f"N{i:03d}"


def national_workbooks(
    templates: list[ParsedWorkbook],
    layout: Layout,
    count: int = NATIONAL_WORKBOOKS,
    schools: int = SCHOOLS_PER_WORKBOOK,
    seed: int = SEED,
) -> list[ParsedWorkbook]:
    """`count` workbooks of `schools` schools each: the province rows replicated and perturbed (counts + 0..2),
    district `N000`.., school codes `<district><001..>`. Values need not satisfy the rules: nothing here
    validates them."""
    rng = np.random.default_rng(seed)
    rows = count * schools
    sheets = {}
    for sheet in layout.school_sheets:
        pool = pd.concat([wb.tables[sheet.name] for wb in templates], ignore_index=True)
        table = pool.iloc[np.arange(rows) % len(pool)].reset_index(drop=True)
        table["ma_truong"] = pd.array(
            [f"{national_district_code(i)}{k:03d}" for i in range(count) for k in range(1, schools + 1)],
            dtype=pool["ma_truong"].dtype,
        )
        table[ROW_NUMBER] = np.tile(4 + np.arange(schools), count)
        for key in sheet.count_keys:
            if key in table:
                table[key] = table[key] + rng.integers(0, 3, rows)
        sheets[sheet.name] = table
    workbooks = []
    for i in range(count):
        code = national_district_code(i)
        template = templates[i % len(templates)]
        tables = {
            name: table.iloc[i * schools : (i + 1) * schools].reset_index(drop=True).copy()
            for name, table in sheets.items()
        }
        for name in template.tables:
            tables.setdefault(name, template.tables[name])
        header = {**template.header, "ma_don_vi": code, "ten_don_vi": f"Phòng GD&ĐT số {i}"}
        workbooks.append(replace(template, file_name=f"{code}.xlsx", header=header, tables=Tables(tables),
                                 findings=[]))
    for start in range(0, count, CHUNK_SIZE):  # as ingest reads them: a chunk at a time
        read_together(workbooks[start : start + CHUNK_SIZE])
    return workbooks


def read_together(workbooks: list[ParsedWorkbook]) -> None:
    """Give the workbooks' tables the form `read_workbooks` gives workbooks read together: per sheet, one
    frame of every workbook's rows in turn, of which each workbook's table is a view, with the arrays the
    frame holds (`StackArrays`: the int64 block, the texts as Arrow, the decimals), as the loader finds
    them after a real read."""
    names = dict.fromkeys(name for workbook in workbooks for name in workbook.tables)
    for name in names:
        owners = [workbook for workbook in workbooks if name in workbook.tables]
        frames = [workbook.tables[name] for workbook in owners]
        stack = pd.concat(frames, ignore_index=True)
        arrays = stack_arrays(stack)
        start = 0
        for workbook, frame in zip(owners, frames, strict=True):
            nullable = frozenset(c for c, dtype in frame.dtypes.items() if dtype == "Int64")
            workbook.tables.add_view(name, TableView(stack, start, start + len(frame), frame.columns, nullable,
                                                     arrays))
            start += len(frame)


def stack_arrays(stack: pd.DataFrame) -> StackArrays:
    """The arrays of a stacked frame as the reader keeps them (see etl.read._stacked_frame)."""
    dtypes = dict(stack.dtypes.items())
    ints = [column for column, dtype in dtypes.items() if dtype == np.int64]
    block = np.ascontiguousarray(stack[ints].to_numpy(dtype=np.int64).T)
    block.flags.writeable = False
    texts = {column: pa.array(stack[column], pa.large_string()) for column, dtype in dtypes.items()
             if pd.api.types.is_string_dtype(dtype) and dtype != np.dtype(object)}
    floats = {column: stack[column].to_numpy() for column, dtype in dtypes.items() if dtype == np.float64}
    return StackArrays({column: i for i, column in enumerate(ints)}, block, texts, floats, frozenset(stack.columns))


def register_national(engine: sa.Engine, count: int = NATIONAL_WORKBOOKS, schools: int = SCHOOLS_PER_WORKBOOK) -> None:
    """The synthetic districts and schools in core (publishing needs them: foreign keys), in the province."""
    with engine.begin() as c:
        c.execute(
            sa.text(
                "insert into core.district (ma_don_vi, ten_don_vi, ma_tinh) "
                "select 'N' || lpad(i::text, 3, '0'), 'Phòng GD&ĐT số ' || i, (select ma_tinh from core.province) "
                "from generate_series(0, :last) as i"
            ),
            {"last": count - 1},
        )
        c.execute(
            sa.text(
                "insert into core.school (ma_truong, ten_truong, ma_don_vi, loai_hinh, mo_tu_nam_hoc) "
                "select d.ma_don_vi || lpad(k::text, 3, '0'), 'Trường Mầm non số ' || k, d.ma_don_vi, 'cong_lap', "
                "'2010-2011' from core.district as d cross join generate_series(1, :schools) as k "
                "where d.ma_don_vi like 'N%'"
            ),
            {"schools": schools},
        )


def record_submissions(engine: sa.Engine, workbooks: list[ParsedWorkbook]) -> list[tuple[int, ParsedWorkbook]]:
    """One dq.submission row per workbook (status received, its period from ThongTin); returns (id, workbook).

    Each workbook must be the only one of its district and period."""
    with engine.begin() as c:
        rows = c.execute(
            sa.text(
                "insert into dq.submission (file_name, sha256, size_bytes, archive_path, ma_don_vi, nam_hoc, "
                "ky_bao_cao, template_version, received_at) "
                "select f.file_name, 'bench', 0, '', f.ma_don_vi, f.nam_hoc, f.ky_bao_cao, :version, now() "
                "from unnest(cast(:files as text[]), cast(:codes as text[]), cast(:years as text[]), "
                "cast(:rounds as text[])) as f (file_name, ma_don_vi, nam_hoc, ky_bao_cao) "
                "returning submission_id, ma_don_vi, nam_hoc, ky_bao_cao"
            ),
            {
                "files": [wb.file_name for wb in workbooks],
                "codes": [wb.period[0] for wb in workbooks],
                "years": [wb.period[1] for wb in workbooks],
                "rounds": [wb.period[2] for wb in workbooks],
                "version": load_layout().template_version,
            },
        ).all()
    ids = {(code, nam_hoc, ky): sid for sid, code, nam_hoc, ky in rows}
    return [(ids[wb.period], wb) for wb in workbooks]


def prebuilt_csv(layout: Layout, submissions: list[tuple[int, ParsedWorkbook]]) -> dict[str, tuple[list[str], bytes]]:
    """The rows load_staging writes, as CSV bytes per staging table (built before timing)."""
    out = {}
    for sheet in layout.sheets.values():
        build = thong_tin_arrays if sheet.kind == "key_value" else load.sheet_arrays
        arrays = build(sheet, submissions)
        buffer = io.BytesIO()
        pa_csv.write_csv(pa.table(arrays), buffer, pa_csv.WriteOptions(include_header=False))
        out[sheet.table] = (list(arrays), buffer.getvalue())
    return out


def thong_tin_arrays(sheet: SheetSpec, submissions: list[tuple[int, ParsedWorkbook]]) -> dict[str, pa.Array]:
    """staging.thong_tin's rows as Arrow columns, typed as staging types them (for the floor's CSV)."""
    types = {"int": pa.int64(), "date": pa.date32()}
    arrays = {"submission_id": pa.array([sid for sid, _ in submissions], pa.int64())}
    for column in sheet.columns:
        values = [load._header_value(wb.header.get(column.key), column.type) for _, wb in submissions]
        arrays[column.key] = pa.array(values, types.get(column.type, load.TEXT))
    return arrays


def copy_csv(connection: sa.Connection, schema: str, csv: dict[str, tuple[list[str], bytes]]) -> None:
    with connection.connection.dbapi_connection.cursor() as cursor:
        for table, (columns, data) in csv.items():
            with cursor.copy(f"copy {schema}.{table} ({', '.join(columns)}) from stdin with (format csv)") as copy:
                copy.write(data)


def split_rows(data: bytes) -> tuple[bytes, bytes]:
    """CSV rows in two halves (first half of the rows, the rest)."""
    rows = data.count(b"\n")
    cut = 0
    for _ in range(rows // 2):
        cut = data.index(b"\n", cut) + 1
    return data[:cut], data[cut:]


def create_floor_tables(engine: sa.Engine, layout: Layout) -> None:
    """Copies of the staging tables with the same columns and types: plain (no keys, no indexes), and
    with staging's indexes, to tell the index cost; copies of the core tables publishing writes, plain and
    with core's keys and indexes."""
    with engine.begin() as c:
        for schema, like in ((FLOOR_SCHEMA, ""), (KEYED_FLOOR_SCHEMA, " including indexes")):
            c.exec_driver_sql(f"create schema {schema}")
            for sheet in layout.sheets.values():
                c.exec_driver_sql(f"create table {schema}.{sheet.table} (like staging.{sheet.table}{like})")
        for table in CORE_TABLES:
            c.exec_driver_sql(f"create table {FLOOR_SCHEMA}.{table} (like core.{table})")
            c.exec_driver_sql(f"create table {KEYED_FLOOR_SCHEMA}.{table} (like core.{table} including indexes)")


def core_csv(engine: sa.Engine) -> dict[str, tuple[list[str], bytes]]:
    """The rows publishing wrote into core, as CSV per table (taken from the database, untimed)."""
    out = {}
    with engine.connect() as c, c.connection.dbapi_connection.cursor() as cursor:
        for table in CORE_TABLES:
            columns = [r[0] for r in cursor.execute(
                "select column_name from information_schema.columns where table_schema = 'core' "
                "and table_name = %s order by ordinal_position", (table,))]
            data = bytearray()
            with cursor.copy(f"copy core.{table} ({', '.join(columns)}) to stdout with (format csv)") as copy:
                for piece in copy:
                    data += piece
            out[table] = (columns, bytes(data))
    return out


def truncate(engine: sa.Engine, tables: list[str]) -> Callable[[], None]:
    """Empty the tables a run fills, then checkpoint, so that every timed run starts on a quiet server
    (no write-back of the previous run's dirty pages during it), whichever run came before."""

    def reset() -> None:
        with engine.begin() as c:
            c.exec_driver_sql(f"truncate {', '.join(tables)}")
            c.exec_driver_sql("update dq.submission set status = 'received' where status <> 'received'")
        checkpoint(engine)

    return reset


def checkpoint(engine: sa.Engine) -> None:
    """CHECKPOINT when the role may (superuser or pg_checkpoint); else nothing."""
    with engine.connect() as c:
        allowed = c.exec_driver_sql(
            "select rolsuper or pg_has_role(current_user, 'pg_checkpoint', 'member') "
            "from pg_roles where rolname = current_user"
        ).scalar()
        if allowed:
            c.exec_driver_sql("checkpoint")


def bench_case(
    engine: sa.Engine, layout: Layout, label: str, workbooks: list[ParsedWorkbook], repeat: int
) -> list[Result]:
    submissions = record_submissions(engine, workbooks)
    chunks = [submissions[i : i + CHUNK_SIZE] for i in range(0, len(submissions), CHUNK_SIZE)]
    resubmissions = record_submissions(engine, workbooks)  # received later: each replaces its first
    second_chunks = [resubmissions[i : i + CHUNK_SIZE] for i in range(0, len(resubmissions), CHUNK_SIZE)]
    csv = prebuilt_csv(layout, submissions)
    rows = sum(data.count(b"\n") for _, data in csv.values())
    staging = [f"staging.{s.table}" for s in layout.sheets.values()]
    core = [
        "core.fact_school_period",
        "core.fact_district_period",
        "core.fact_training_course",
        "core.current_submission",
    ]
    floor_tables = [
        f"{schema}.{s.table}" for schema in (FLOOR_SCHEMA, KEYED_FLOOR_SCHEMA) for s in layout.sheets.values()
    ]

    def bare_copy(schema: str) -> Callable[[], None]:
        def run() -> None:
            with engine.begin() as c:
                copy_csv(c, schema, csv)

        return run

    def load_chunks(publish: bool) -> Callable[[], None]:
        """One chunk after the other on one connection."""
        def run() -> None:
            for chunk in chunks:
                with engine.begin() as c:
                    load.load_staging(c, layout, chunk)
                    if publish:
                        load.publish_accepted(c, [sid for sid, _ in chunk])

        return run

    def write_chunks(chunks: list[list[tuple[int, ParsedWorkbook]]] = chunks) -> None:
        """As a night writes them (etl.ingest): a chunk's staging while the previous one publishes."""
        with ChunkWriter(engine) as writer:
            for number, chunk in enumerate(chunks, start=1):
                ids = [sid for sid, _ in chunk]
                writer.submit(lambda c, chunk=chunk: load.load_staging(c, layout, chunk),
                              lambda c, ids=ids: load.publish_accepted(c, ids), last=number == len(chunks))

    # one untimed run of the whole step first: the core rows it writes are the whole-step floor's data
    reset_all = truncate(engine, staging + core)

    def first_submissions_current() -> None:
        """Empty, then the first submissions staged and published (untimed), then a checkpoint."""
        reset_all()
        load_chunks(publish=True)()
        checkpoint(engine)
    reset_all()
    load_chunks(publish=True)()
    with engine.connect() as c:
        facts = c.execute(sa.text("select count(*) from core.fact_school_period")).scalar_one()
    written = core_csv(engine)
    core_rows = sum(data.count(b"\n") for _, data in written.values())
    core_floor_tables = [f"{schema}.{t}" for schema in (FLOOR_SCHEMA, KEYED_FLOOR_SCHEMA) for t in CORE_TABLES]

    def bare_copy_all(schema: str) -> Callable[[], None]:
        def run() -> None:
            with engine.begin() as c:
                copy_csv(c, schema, csv)
                copy_csv(c, schema, written)

        return run

    # The night's step writes on two connections (etl.pipeline): the same rows COPY'd in two sessions at
    # once, half of each table's rows each, is the floor's own use of both cores (info).
    split = {table: (columns, split_rows(data)) for table, (columns, data) in {**csv, **written}.items()}
    halves = [{table: (columns, parts[half]) for table, (columns, parts) in split.items()} for half in (0, 1)]

    def bare_copy_two_sessions() -> None:
        def half(part: dict[str, tuple[list[str], bytes]]) -> None:
            with engine.begin() as c:
                copy_csv(c, FLOOR_SCHEMA, part)

        with ThreadPoolExecutor(max_workers=2) as sessions:
            list(sessions.map(half, halves))

    medians = alternating_medians(
        {
            "floor": (bare_copy(FLOOR_SCHEMA), truncate(engine, floor_tables)),
            "keyed": (bare_copy(KEYED_FLOOR_SCHEMA), truncate(engine, floor_tables)),
            "schema": (bare_copy("staging"), truncate(engine, staging)),
            "ours": (load_chunks(publish=False), truncate(engine, staging)),
            "whole_floor": (bare_copy_all(FLOOR_SCHEMA), truncate(engine, floor_tables + core_floor_tables)),
            "whole_keyed": (bare_copy_all(KEYED_FLOOR_SCHEMA), truncate(engine, floor_tables + core_floor_tables)),
            "whole_two": (bare_copy_two_sessions, truncate(engine, floor_tables + core_floor_tables)),
            "with_publish": (write_chunks, reset_all),
            "one_by_one": (load_chunks(publish=True), reset_all),
            "replacing": (lambda: write_chunks(second_chunks), first_submissions_current),
        },
        repeat,
    )
    floor, keyed_floor, schema_floor = medians["floor"], medians["keyed"], medians["schema"]
    ours, whole_floor, with_publish = medians["ours"], medians["whole_floor"], medians["with_publish"]
    whole_keyed, one_by_one, whole_two = medians["whole_keyed"], medians["one_by_one"], medians["whole_two"]
    replacing = medians["replacing"]
    truncate(engine, staging + core + floor_tables + core_floor_tables)()

    case = f"{label} ({len(workbooks)} wb, {rows:,} rows)"
    print(f"\n{case}, {len(chunks)} chunk(s) of ≤ {CHUNK_SIZE}, median of {repeat} runs taken in turn; "
          f"{facts:,} core facts")
    for name, seconds, n in (
        ("bare COPY, prebuilt CSV, plain tables", floor, rows),
        ("bare COPY, prebuilt CSV, staging's indexes", keyed_floor, rows),
        ("bare COPY, prebuilt CSV, into staging itself", schema_floor, rows),
        ("load_staging", ours, rows),
        (f"bare COPY of staging + {core_rows:,} core rows", whole_floor, rows + core_rows),
        ("the same, into tables with the real indexes", whole_keyed, rows + core_rows),
        ("the same, plain tables, two sessions at once", whole_two, rows + core_rows),
        ("load_staging + publish_accepted, as a night", with_publish, rows + core_rows),
        ("the same, one chunk after the other", one_by_one, rows + core_rows),
        ("the same, each replacing a current submission", replacing, rows + core_rows),
    ):
        print(f"  {name:<46} {seconds:7.3f} s {n / seconds:>12,.0f} rows/s")
    target = f"≤ {TARGET_RATIO:g}× floor"
    return [
        Result("load", f"{case}: COPY, staging's indexes", keyed_floor, floor, "info", None),
        Result("load", f"{case}: COPY into staging itself", schema_floor, floor, "info", None),
        Result("load", f"{case}: load_staging", ours, floor, target, within(ours, floor, TARGET_RATIO)),
        Result(
            "load",
            f"{case}: load_staging + publish (floor: staging + core rows)",
            with_publish,
            whole_floor,
            target,
            within(with_publish, whole_floor, TARGET_RATIO),
        ),
        Result("load", f"{case}: load_staging + publish (floor: staging rows)", with_publish, floor, "info", None),
        Result("load", f"{case}: load_staging + publish (floor: staging + core rows, real indexes)", with_publish,
               whole_keyed, "info", None),
        Result("load", f"{case}: load_staging + publish, one chunk after the other (floor: staging + core rows)",
               one_by_one, whole_floor, "info", None),
        Result("load", f"{case}: load_staging + publish (floor: staging + core rows, two COPY sessions)",
               with_publish, whole_two, "info", None),
        Result("load", f"{case}: load_staging + publish, resubmissions replacing current ones (floor: staging + "
               "core rows)", replacing, whole_floor, "info", None),
    ]


def run(*, province_only: bool = False, repeat: int = 5, server_url: str | None = None) -> list[Result]:
    layout = load_layout()
    son_la = ProvinceConfig(PROJECT_ROOT / "config" / "provinces" / "son-la")
    province = province_workbooks(son_la)
    results = []
    with bench_database(server_url) as (_, engine):
        create_floor_tables(engine, layout)
        results += bench_case(engine, layout, "province", province, repeat * PROVINCE_REPEAT_FACTOR)
        if not province_only:
            register_national(engine)
            national = national_workbooks(province, layout)
            results += bench_case(engine, layout, "national", national, repeat)
    return results


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province-only", action="store_true", help="skip the 700-workbook national batch")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    args = parser.parse_args(argv)
    results = run(province_only=args.province_only, repeat=args.repeat)
    print_results(results, "loading")
    return results


if __name__ == "__main__":
    main()
