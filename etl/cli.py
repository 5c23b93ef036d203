"""The `tonghop` command line (spec/interfaces.md). Each command is a thin call into the library."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from etl.config import Settings
from etl.registry import ready_warehouse


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from etl.ingest import ingest_files

    if (args.nam_hoc is None) != (args.ky_bao_cao is None):
        print("lỗi: --nam-hoc và --ky-bao-cao phải đi cùng nhau (đợt tiếp nhận: năm học và kỳ báo cáo)",
              file=sys.stderr)
        return 2
    expected = (args.nam_hoc, args.ky_bao_cao) if args.nam_hoc else None
    engine = ready_warehouse(settings)
    verdicts = ingest_files(
        engine, settings, [Path(p) for p in args.paths], on_verdict=lambda v: print(v.line(), flush=True),
        on_progress=lambda done, total: print(f"… {done}/{total} tệp đã xử lý", file=sys.stderr, flush=True),
        expected_period=expected)
    counts = {s: sum(v.status == s for v in verdicts) for s in ("accepted", "rejected", "duplicate")}
    print(f"{len(verdicts)} tệp: {counts['accepted']} chấp nhận, {counts['rejected']} bị từ chối, "
          f"{counts['duplicate']} trùng lặp")
    return 0


def cmd_rollup(args: argparse.Namespace, settings: Settings) -> int:
    from etl.rollup import rebuild_marts

    counts = rebuild_marts(ready_warehouse(settings))
    print(f"mart.district_indicator: {counts['district_indicator']} dòng, "
          f"mart.province_indicator: {counts['province_indicator']} dòng")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from etl.report import write_annual_report, write_phase_report

    engine = ready_warehouse(settings)
    out = Path(args.out) if args.out else settings.reports_dir
    if args.giai_doan:
        paths = write_phase_report(engine, settings.province_config(), args.giai_doan, out)
    else:
        if not args.nam_hoc:
            print("cần --nam-hoc YYYY-YYYY hoặc --giai-doan YYYY-YYYY", file=sys.stderr)
            return 2
        paths = write_annual_report(engine, settings.province_config(), args.nam_hoc, out)
    for path in paths:
        print(path)
    return 0


def cmd_warehouse(args: argparse.Namespace, settings: Settings) -> int:
    from etl import warehouse

    if args.action == "stop":
        if settings.warehouse_url:
            print("WAREHOUSE_URL is set: the server is not managed by tonghop", file=sys.stderr)
            return 2
        print("stopped" if warehouse.stop_embedded(settings) else "not running")
        return 0
    if args.action == "start":
        ready_warehouse(settings)
    print(warehouse.libpq_url(settings))
    return 0


def cmd_template(args: argparse.Namespace, settings: Settings) -> int:
    from etl.template import write_blank_template

    path = write_blank_template(settings.province_config(), args.ma_don_vi, Path(args.out), nam_hoc=args.nam_hoc)
    print(path)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from etl.demo import run_demo

    started = time.perf_counter()
    summary = run_demo(settings, seed=args.seed)
    print(summary.text())
    print(f"xong trong {time.perf_counter() - started:.1f} s")
    return 0


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    from etl.docs import write_data_dictionary
    from etl.validate import write_rules_doc

    print(write_data_dictionary(ready_warehouse(settings)))
    print(write_rules_doc())
    return 0


def cmd_lock(args: argparse.Namespace, settings: Settings) -> int:
    from etl.locks import lock_period

    lock_period(ready_warehouse(settings), args.nam_hoc, args.ky, reason=args.ly_do, by=args.nguoi)
    print(f"đã khóa kỳ {args.ky} năm học {args.nam_hoc}")
    return 0


def cmd_unlock(args: argparse.Namespace, settings: Settings) -> int:
    from etl.locks import unlock_period
    from etl.rollup import rebuild_marts

    engine = ready_warehouse(settings)
    published = unlock_period(engine, args.nam_hoc, args.ky, reason=args.ly_do, by=args.nguoi)
    if published:
        rebuild_marts(engine)
    print(f"đã mở khóa kỳ {args.ky} năm học {args.nam_hoc}; {len(published)} lần nộp đang giữ được cập nhật")
    return 0


def cmd_remind(args: argparse.Namespace, settings: Settings) -> int:
    from etl.reminders import local_date, send_due_reminders

    # today in Asia/Ho_Chi_Minh, as the DAG's day: a container's clock is UTC, a day behind before 07:00
    today = local_date(args.ngay)
    sent = send_due_reminders(ready_warehouse(settings), settings, today)
    print(f"{len(sent)} thư nhắc đã gửi ({today.isoformat()})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tonghop", description="Tổng hợp báo cáo GDMN của các Phòng GD&ĐT.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="the whole job on generated demo data (embedded warehouse by default)")
    p.add_argument("--seed", type=int, default=2025)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ingest", help="archive, validate, load or quarantine files (or folders of them)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--nam-hoc", help="with --ky-bao-cao: the round being received (e.g. 2019-2020 CN); a file "
                                     "for another period is rejected as wrong_period")
    p.add_argument("--ky-bao-cao", choices=("HKI", "CN"))
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("rollup", help="rebuild the marts from the current accepted submissions")
    p.set_defaults(func=cmd_rollup)

    p = sub.add_parser("report", help="annual report files (--nam-hoc) or a phase report (--giai-doan)")
    p.add_argument("--nam-hoc")
    p.add_argument("--giai-doan", help="plan phase, e.g. 2021-2025")
    p.add_argument("--out")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("warehouse", help="print the warehouse URL; start or stop the embedded server")
    p.add_argument("action", choices=["url", "start", "stop"])
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("template", help="a blank template pre-filled with a district's schools")
    p.add_argument("--out", required=True)
    p.add_argument("--ma-don-vi", required=True)
    p.add_argument("--nam-hoc")
    p.set_defaults(func=cmd_template)

    for name, func, text in (("lock", cmd_lock, "lock a reported period: later files are held"),
                             ("unlock", cmd_unlock, "unlock a period (reason required); held files are published")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--nam-hoc", required=True)
        p.add_argument("--ky", "--ky-bao-cao", dest="ky", required=True, choices=["HKI", "CN"])
        p.add_argument("--ly-do", required=(name == "unlock"), help="reason, recorded")
        p.add_argument("--nguoi", help="who (default: the database user)")
        p.set_defaults(func=func)

    p = sub.add_parser("remind", help="send the deadline reminders due on a day (once each)")
    p.add_argument("--ngay", help="the day, YYYY-MM-DD (default: today in Asia/Ho_Chi_Minh)")
    p.set_defaults(func=cmd_remind)

    p = sub.add_parser("docs", help="regenerate docs/data-dictionary.md (warehouse comments) "
                                    "and docs/rules.md (the suites)")
    p.set_defaults(func=cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # Importing Airflow reconfigures logging; keep the library's INFO lines out of the operator's terminal.
    logging.getLogger("etl").setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return args.func(args, Settings.from_env())
    except (FileNotFoundError, ValueError) as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 2
