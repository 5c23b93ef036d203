"""`python -m bench [--quick]` (`make bench`): the four benches in sequence, then one summary table.

read and validate run as their own processes (`python -m bench.read_bench`, `bench.validate_bench`:
their output is echoed and their result lines parsed into the summary); load and roll-up run here, on
one PostgreSQL server (WAREHOUSE_URL's, else an embedded one under a temporary folder). `--quick`
keeps the province cases only. This is a report, not a test: it exits 0 even when a target is missed,
and marks the row MISSED.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

from bench import load_bench, rollup_bench
from bench.common import Result, bench_server, print_results

READ_TARGET_RATIO = 1.5
# The province part of `bench.validate_bench.main`, for --quick (its command line has no such option).
VALIDATE_PROVINCE_ONLY = """
import time
from bench import validate_bench as v
from etl.config import PROJECT_ROOT, ProvinceConfig
t0 = time.perf_counter()
v._gx_runtime()
print(f"one-off: import Great Expectations and build the context: {time.perf_counter() - t0:.2f} s")
son_la = ProvinceConfig(PROJECT_ROOT / "config" / "provinces" / "son-la")
v.run("province", son_la, {d["ma_don_vi"]: son_la.open_schools(d["ma_don_vi"], v.NAM_HOC) for d in son_la.districts})
"""


def run_echoed(args: list[str]) -> tuple[int, str]:
    """Run a command, echoing its output as it comes; returns its exit code and output."""
    lines = []
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    return process.returncode, "".join(lines)


def failed(stage: str, code: int) -> Result:
    return Result(stage, f"failed (exit {code}, see its output above)", 0.0, None, "runs", False)


def parse_read(output: str) -> list[Result]:
    """One row per batch of bench.read_bench: read_workbooks against the faster fastexcel run."""
    results = []
    for block in re.split(r"\n(?=\S)", output):
        head = re.match(r"(.+?): (\d+) workbooks, (\d+) data rows", block)
        times = dict(re.findall(r"^\s+(floor \(the faster\)|read_workbooks)\s+([\d.]+) s", block, re.MULTILINE))
        if head and len(times) == 2:
            ours, floor = float(times["read_workbooks"]), float(times["floor (the faster)"])
            results.append(
                Result(
                    "read",
                    f"{head[1]} ({head[2]} wb, {int(head[3]):,} rows)",
                    ours,
                    floor,
                    f"≤ {READ_TARGET_RATIO:g}× floor",
                    ours <= READ_TARGET_RATIO * floor,
                )
            )
    return results


def parse_validate(output: str) -> list[Result]:
    """One row per case of bench.validate_bench: Great Expectations (all rules) against plain pandas."""
    results = []
    one_off = re.search(r"one-off: .*?([\d.]+) s", output)
    if one_off:
        results.append(
            Result("validate", "one-off: import GX, build its context", float(one_off[1]), None, "info", None)
        )
    pattern = (
        r"^(\w+): (\d+) workbooks, (\d+) rows\n"
        r"\s+validate_workbooks .*?([\d.]+) s\s+target < ([\d.]+) s.*\n"
        r"\s+plain pandas.*?([\d.]+) s"
    )
    for label, workbooks, rows, ours, limit, floor in re.findall(pattern, output, re.MULTILINE):
        results.append(
            Result(
                "validate",
                f"{label} ({workbooks} wb, {int(rows):,} rows)",
                float(ours),
                float(floor),
                f"< {limit} s",
                float(ours) < float(limit),
            )
        )
    return results


def run_subprocess_bench(stage: str, args: list[str], parse) -> list[Result]:
    print(f"\n=== {stage}: {' '.join(args[1:])}", flush=True)
    code, output = run_echoed(args)
    if code != 0:
        return [failed(stage, code)]
    results = parse(output)
    return results or [Result(stage, "result lines not recognised (see output above)", 0.0, None, "", None)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="province cases only")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    python = sys.executable
    results = run_subprocess_bench(
        "read", [python, "-m", "bench.read_bench", *(["--province-only"] if args.quick else [])], parse_read
    )
    validate = [python, "-c", VALIDATE_PROVINCE_ONLY] if args.quick else [python, "-m", "bench.validate_bench"]
    results += run_subprocess_bench("validate", validate, parse_validate)
    with bench_server() as server_url:
        for stage, bench in (("load", load_bench), ("rollup", rollup_bench)):
            print(f"\n=== {stage}", flush=True)
            try:
                results += bench.run(province_only=args.quick, server_url=server_url)
            except Exception as error:  # a report: one broken bench must not hide the others
                print(f"{stage} bench failed: {error!r}")
                results.append(failed(stage, 1))
    print_results(
        results,
        f"summary ({'quick, province cases' if args.quick else 'all cases'}; {time.perf_counter() - started:.0f} s)",
    )
    missed = [r for r in results if r.ok is False]
    print(f"\n{len(missed)} target(s) MISSED." if missed else "\nevery target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
