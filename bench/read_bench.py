"""Reading speed: `etl.read.read_workbook` against bare fastexcel loading the same files, in the same run.

Run: `python -m bench.read_bench` (both batches) or `python -m bench.read_bench --province-only`.
Writes synthetic district workbooks with xlsxwriter into a temporary folder (ThongTin and the four
per-school sheets, 40 schools each, a title row, a key row under the labels, a `Tổng cộng` row of SUM
formulas with cached values): 12 workbooks for a province night and 700 for a national night. Prints,
per batch, the median of several runs, taken in turn round after round, of:
- bare fastexcel: every sheet loaded with fastexcel's defaults and converted to Arrow;
- raw fastexcel: every sheet loaded as the reader loads it (no header inference, all cells as text);
- `read_workbooks`: the whole reader (header search, typing, findings, frames), called as `etl.ingest` calls
  it: on chunks of CHUNK_SIZE files read together; each timed pass starts with nothing remembered from
  earlier passes (`etl.read.forget_memos`), as a night reads each file once;
with rows per second (data rows of the per-school sheets) and the ratio of the reader to the floor, the faster
of the two fastexcel runs. Target (guides/performance.md): the reader within 1.5x of bare fastexcel.
For the national batch it also prints how much resident memory a fresh process gains reading 1, 100 and 700
of the files a chunk at a time (issue: memory bounded by what is read at once, not by the night).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fastexcel
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from bench.common import alternating_medians
from etl.ingest import CHUNK_SIZE
from etl.layout import Layout, load_layout
from etl.read import forget_memos, read_workbooks

SCHOOLS_PER_WORKBOOK = 40
TARGET_RATIO = 1.5
PROVINCE_REPEAT_FACTOR = 3


def write_workbook(path: Path, layout: Layout, district: int, rng: random.Random) -> None:
    """One valid-looking CN workbook of a district, as the template is filled in by hand."""
    wb = xlsxwriter.Workbook(str(path))
    info = wb.add_worksheet("ThongTin")
    values = {
        "phien_ban": layout.template_version,
        "ma_don_vi": f"{district:03d}",
        "ten_don_vi": f"Phòng GD&ĐT huyện {district}",
        "nam_hoc": "2019-2020",
        "ky_bao_cao": "CN",
        "nguoi_lap": "Nguyễn Thị Lan",
        "ngay_lap": "15/06/2020",
        "dan_so_0_2": rng.randint(1000, 9000),
        "dan_so_3_5": rng.randint(1000, 9000),
        "dan_so_5": rng.randint(300, 900),
    }
    for r, (key, value) in enumerate(values.items()):
        info.write_string(r, 0, layout.sheets["ThongTin"].column(key).label_vi)
        info.write(r, 1, value)
    for spec in layout.school_sheets:
        ws = wb.add_worksheet(spec.name)
        ws.write_string(0, 0, f"PHÒNG GD&ĐT HUYỆN {district} - {spec.name.upper()}")
        for c, column in enumerate(spec.columns):
            ws.write_string(1, c, column.label_vi)
            ws.write_string(2, c, column.key)
        sums = [0] * len(spec.columns)
        for i in range(SCHOOLS_PER_WORKBOOK):
            r = 3 + i
            for c, column in enumerate(spec.columns):
                if column.type == "code":
                    ws.write_string(r, c, f"14{district:03d}{i + 1:03d}")
                elif column.type == "text":
                    ws.write_string(r, c, f"Trường Mầm non số {i + 1}")
                elif column.type == "enum":
                    ws.write_string(r, c, "cong_lap")
                elif column.type == "flag":
                    ws.write_number(r, c, rng.randint(0, 1))
                else:
                    value = rng.randint(0, 400)
                    sums[c] += value
                    ws.write_number(r, c, value)
        last = 3 + SCHOOLS_PER_WORKBOOK
        ws.write_string(last, spec.keys.index("ten_truong"), "Tổng cộng")
        for c, column in enumerate(spec.columns):
            if column.type == "int":
                top, bottom = xl_rowcol_to_cell(3, c), xl_rowcol_to_cell(last - 1, c)
                ws.write_formula(last, c, f"=SUM({top}:{bottom})", None, sums[c])
    wb.close()


def write_batch(folder: Path, count: int, layout: Layout) -> list[Path]:
    rng = random.Random(count)
    paths = []
    for i in range(count):
        path = folder / f"district-{i:03d}.xlsx"
        write_workbook(path, layout, 100 + i % 900, rng)
        paths.append(path)
    return paths


def load_bare(paths: list[Path]) -> int:
    """fastexcel with its defaults: header row 0, dtypes inferred; every sheet to Arrow."""
    cells = 0
    for path in paths:
        reader = fastexcel.read_excel(str(path))
        for name in reader.sheet_names:
            batch = reader.load_sheet(name).to_arrow()
            cells += batch.num_rows * batch.num_columns
    return cells


def load_raw(paths: list[Path]) -> int:
    """fastexcel as the reader calls it: no header inference, every cell as text."""
    cells = 0
    for path in paths:
        reader = fastexcel.read_excel(str(path))
        for name in reader.sheet_names:
            batch = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_arrow()
            cells += batch.num_rows * batch.num_columns
    return cells


def read_all(paths: list[Path]) -> int:
    """The reader, a chunk at a time as ingest calls it; returns the data rows read and fails loudly if
    any file has an error finding. The rows are counted without building each workbook's own frame:
    validation and loading take the chunk's stacked frames (`etl.model.stack_tables`)."""
    rows = 0
    for start in range(0, len(paths), CHUNK_SIZE):
        for result in read_workbooks(paths[start : start + CHUNK_SIZE]):
            errors = [f.message for f in result.findings if f.severity != "info"]
            if errors:
                raise SystemExit(f"{result.file_name}: {errors[:3]}")
            rows += sum(result.tables.rows(sheet) or 0 for sheet in result.tables)
    return rows


def resident_growth(folder: Path, count: int) -> tuple[int, int]:
    """In this process: read one workbook (lazy imports, the layout), note the resident memory, then read
    the first `count` workbooks of `folder` a chunk at a time as ingest does (a chunk let go before the
    next), noting the most resident memory seen after a chunk; returns both, in bytes. Resident pages
    count everything, Python objects, numpy, Arrow and calamine's buffers alike (and memory freed but kept
    by the allocator)."""
    def resident() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    paths = sorted(folder.glob("*.xlsx"))[:count]
    read_workbooks(paths[:1])
    base = high = resident()
    for start in range(0, len(paths), CHUNK_SIZE):
        chunk = read_workbooks(paths[start : start + CHUNK_SIZE])
        high = max(high, resident())
        del chunk  # as ingest: a chunk is validated and loaded, then let go
    return base, high


def resident_growth_mib(folder: Path, count: int) -> tuple[float, float]:
    """(resident MiB after one workbook, growth in MiB while reading `count` workbooks) of a fresh process."""
    done = subprocess.run([sys.executable, "-m", "bench.read_bench", "--resident", str(folder), str(count)],
                          check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    base, high = (int(v) for v in done.stdout.split()[-2:])
    return base / 2**20, (high - base) / 2**20


def memory_report(folder: Path, counts: list[int]) -> str:
    """Memory reading takes for growing numbers of files: bounded means flat once a chunk is full (each
    file's cells are let go before the next; one chunk's typed rows at a time)."""
    growth = {n: resident_growth_mib(folder, n) for n in counts}
    base = min(b for b, _ in growth.values())
    cells = ", ".join(f"{n} files +{g:.0f} MiB" for n, (_, g) in growth.items())
    return f"  resident memory while reading, above {base:.0f} MiB after one file (chunks of {CHUNK_SIZE}): {cells}"


def bench_batch(label: str, count: int, repeat: int, layout: Layout, *, memory: list[int] | None = None) -> float:
    with tempfile.TemporaryDirectory(prefix="read-bench-") as folder:
        start = time.perf_counter()
        paths = write_batch(Path(folder), count, layout)
        written = time.perf_counter() - start
        rows = read_all(paths)
        # taken in turn, round after round (a drift of the shared machine falls on all three alike); each
        # timed pass of the reader starts with nothing remembered, as a night that reads each file once:
        # what it remembers from file to file (headers, ThongTin values) is earned within the pass
        medians = alternating_medians(
            {
                "bare": (lambda: load_bare(paths), None),
                "raw": (lambda: load_raw(paths), None),
                "reader": (lambda: read_all(paths), forget_memos),
            },
            repeat,
        )
        bare, raw, reader = medians["bare"], medians["raw"], medians["reader"]
        peak = memory_report(Path(folder), memory) if memory else None
    floor = min(bare, raw)  # the fastest raw path of the run
    ratio = reader / floor
    print(f"\n{label}: {count} workbooks, {rows} data rows (written in {written:.1f} s), median of {repeat} runs")
    for name, seconds in (("bare fastexcel", bare), ("raw fastexcel (as text)", raw), ("floor (the faster)", floor),
                          ("read_workbooks", reader)):
        print(f"  {name:<26} {seconds:8.3f} s  {rows / seconds:>10,.0f} rows/s")
    verdict = "ok" if ratio <= TARGET_RATIO else f"above the {TARGET_RATIO}x target"
    print(f"  ratio read_workbooks / floor: {ratio:.2f}x ({verdict})")
    if peak:
        print(peak)
    return ratio


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province-only", action="store_true", help="skip the 700-workbook national batch")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (median)")
    # the fresh process memory_report starts: FOLDER COUNT, prints resident bytes after one file and at most
    parser.add_argument("--resident", nargs=2, metavar=("FOLDER", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.resident:
        print(*resident_growth(Path(args.resident[0]), int(args.resident[1])))
        return
    layout = load_layout()
    # twelve files take milliseconds: more runs for a stable median, at no real cost
    bench_batch("province night", 12, args.repeat * PROVINCE_REPEAT_FACTOR, layout)
    if not args.province_only:
        bench_batch("national night", 700, args.repeat, layout, memory=[1, CHUNK_SIZE, 700])


if __name__ == "__main__":
    main()
