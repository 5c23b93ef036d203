"""The `tonghop` command line (spec/interfaces.md). Each command is a thin call into the library."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from etl import arguments
from etl.arguments import VietnameseArgumentParser
from etl.config import Settings
from etl.registry import ready_warehouse
from etl.warehouse import WarehouseUnavailable


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from etl.ingest import ingest_files
    from etl.names import display_name
    from etl.rollup import roll_up_accepted

    if (args.nam_hoc is None) != (args.ky_bao_cao is None):
        print("lỗi: --nam-hoc và --ky-bao-cao phải đi cùng nhau (đợt tiếp nhận: năm học và kỳ báo cáo)",
              file=sys.stderr)
        return 2
    expected = (args.nam_hoc, args.ky_bao_cao) if args.nam_hoc else None
    engine = ready_warehouse(settings)
    verdicts = ingest_files(
        engine, settings, [Path(p) for p in args.paths], on_verdict=lambda v: print(v.line(), flush=True),
        on_progress=lambda done, total: print(f"… {done}/{total} tệp đã xử lý", file=sys.stderr, flush=True),
        on_skip=lambda skipped: print(f"chưa nhận   {display_name(skipped.path)}: {skipped.reason}; "
                                      "để lại cho lần chạy sau", file=sys.stderr, flush=True),
        on_wait=lambda: print("một lượt tiếp nhận khác (tác vụ hằng đêm hoặc lệnh tonghop ingest khác) đang chạy "
                              "trên kho dữ liệu: chờ lượt đó xong rồi tiếp nhận", file=sys.stderr, flush=True),
        expected_period=expected)
    # the marts of the periods published here, as the nightly run does (the night rebuilds only its own)
    roll_up_accepted(engine, settings.province_config(), [asdict(v) for v in verdicts])
    print(verdict_summary([v.status for v in verdicts]))
    return 0


def verdict_summary(statuses: list[str]) -> str:
    """The run's last line: every file counted under its verdict, so the parts add up to the total (a file held
    for a locked period is neither accepted nor rejected)."""
    counts = {s: statuses.count(s) for s in ("accepted", "rejected", "duplicate", "held")}
    line = (f"{len(statuses)} tệp: {counts['accepted']} chấp nhận, {counts['rejected']} bị từ chối, "
            f"{counts['duplicate']} trùng lặp")
    if counts["held"]:
        line += f", {counts['held']} đang giữ lại (kỳ đã khóa, chờ mở khóa)"
    return line


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
        paths = write_annual_report(engine, settings.province_config(), args.nam_hoc, out)
    for path in paths:
        print(path)
    return 0


def cmd_warehouse(args: argparse.Namespace, settings: Settings) -> int:
    from etl import warehouse

    if args.action == "stop":
        if settings.warehouse_url:
            print("lỗi: WAREHOUSE_URL đã được đặt: máy chủ đó không do tonghop quản lý nên không dừng",
                  file=sys.stderr)
            return 2
        print("đã dừng kho dữ liệu nhúng" if warehouse.stop_embedded(settings) else "kho dữ liệu nhúng không chạy")
        return 0
    if args.action == "start":
        ready_warehouse(settings)
    print(warehouse.libpq_url(settings))
    return 0


def cmd_template(args: argparse.Namespace, settings: Settings) -> int:
    from etl.template import write_blank_template

    path = write_blank_template(settings.province_config(), args.ma_don_vi, Path(args.out), nam_hoc=args.nam_hoc,
                                template_version=args.phien_ban)
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
    from etl.rollup import roll_up_accepted

    engine = ready_warehouse(settings)
    published = unlock_period(engine, args.nam_hoc, args.ky, reason=args.ly_do, by=args.nguoi)
    if published:
        # as a night does for its accepted files: the period's marts, then its cross-district outliers
        roll_up_accepted(engine, settings.province_config(),
                         [{"status": "accepted", "nam_hoc": args.nam_hoc, "ky_bao_cao": args.ky, "submission_id": s}
                          for s in published])
    print(f"đã mở khóa kỳ {args.ky} năm học {args.nam_hoc}; {len(published)} lần nộp đang giữ được cập nhật")
    if published and args.ky == "CN":
        print(f"số liệu tổng hợp đã được tính lại; báo cáo năm học chưa được viết lại: chạy "
              f"'tonghop report --nam-hoc {args.nam_hoc}' khi cần cập nhật báo cáo")
    return 0


def cmd_remind(args: argparse.Namespace, settings: Settings) -> int:
    from etl.reminders import local_date, send_due_reminders

    # today in Asia/Ho_Chi_Minh, as the DAG's day: a container's clock is UTC, a day behind before 07:00
    today = local_date(args.ngay)
    sent = send_due_reminders(ready_warehouse(settings), settings, today)
    print(f"{len(sent)} thư nhắc đã gửi ({today.isoformat()})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = VietnameseArgumentParser(prog="tonghop", description="Tổng hợp báo cáo GDMN của các Phòng GD&ĐT.")
    parser.add_argument("-v", "--verbose", action="store_true", help="ghi nhật ký chi tiết (mức INFO)")
    sub = parser.add_subparsers(dest="command", required=True, title="lệnh", metavar="LỆNH",
                                parser_class=VietnameseArgumentParser)

    p = sub.add_parser("demo", help="chạy toàn bộ quy trình trên dữ liệu mẫu (kho dữ liệu nhúng nếu chưa đặt "
                                    "WAREHOUSE_URL)")
    p.add_argument("--seed", type=int, default=2025, help="hạt giống sinh dữ liệu mẫu (mặc định 2025)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ingest", help="lưu trữ, kiểm tra, nạp hoặc cách ly các tệp (hoặc các thư mục chứa tệp); "
                                      "mỗi tệp một dòng kết quả; rồi tính lại số liệu tổng hợp của các kỳ có tệp "
                                      "được chấp nhận")
    p.add_argument("paths", nargs="+", metavar="ĐƯỜNG_DẪN", help="tệp .xlsx/.zip hoặc thư mục")
    p.add_argument("--nam-hoc", type=arguments.school_year,
                   help="cùng --ky-bao-cao: đợt đang tiếp nhận (ví dụ 2019-2020 CN); tệp của kỳ khác bị từ chối "
                        "(wrong_period)")
    p.add_argument("--ky-bao-cao", type=arguments.report_round, metavar="{HKI,CN}", help="HKI hoặc CN")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("rollup", help="tính lại các bảng tổng hợp (mart) từ các lần nộp được chấp nhận hiện hành")
    p.set_defaults(func=cmd_rollup)

    p = sub.add_parser("report", help="báo cáo năm học (--nam-hoc) hoặc báo cáo giai đoạn (--giai-doan)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--nam-hoc", type=arguments.school_year, help="năm học của báo cáo năm, ví dụ 2019-2020 "
                                                                     "(số liệu tổng kết cả năm, CN)")
    which.add_argument("--giai-doan", type=arguments.phase, help="giai đoạn kế hoạch, ví dụ 2021-2025")
    p.add_argument("--out", metavar="THƯ_MỤC", help="thư mục ghi báo cáo (mặc định $TONGHOP_HOME/reports)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("warehouse", help="in địa chỉ kho dữ liệu (postgresql://); khởi động hoặc dừng kho nhúng")
    p.add_argument("action", choices=["url", "start", "stop"], help="url: in địa chỉ; start: khởi động; "
                                                                   "stop: dừng kho nhúng")
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("template", help="mẫu biểu trống (phiên bản hiện hành), điền sẵn các trường của một đơn vị")
    p.add_argument("--out", required=True, metavar="TỆP", help="tệp .xlsx sẽ ghi")
    p.add_argument("--ma-don-vi", required=True, help="mã đơn vị (Phòng GD&ĐT) trong danh mục của tỉnh")
    p.add_argument("--nam-hoc", type=arguments.school_year_or_next,
                   help="năm học của mẫu (mặc định: năm học hiện tại); các trường mở trong năm học đó")
    p.add_argument("--phien-ban", type=arguments.template_version, metavar="PHIÊN_BẢN",
                   help="phiên bản biểu mẫu (mặc định: phiên bản hiện hành trong etl/layouts/versions.yaml)")
    p.set_defaults(func=cmd_template)

    for name, func, text in (("lock", cmd_lock, "khóa một kỳ đã báo cáo: tệp nộp sau đó được giữ lại"),
                             ("unlock", cmd_unlock, "mở khóa một kỳ (bắt buộc ghi lý do); các tệp đang giữ được "
                                                    "cập nhật")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--nam-hoc", required=True, type=arguments.school_year, help="năm học, ví dụ 2019-2020")
        p.add_argument("--ky", "--ky-bao-cao", dest="ky", required=True, type=arguments.report_round,
                       metavar="{HKI,CN}", help="kỳ báo cáo: HKI hoặc CN")
        p.add_argument("--ly-do", required=(name == "unlock"), help="lý do, được ghi lại")
        p.add_argument("--nguoi", help="người thực hiện (mặc định: người dùng cơ sở dữ liệu)")
        p.set_defaults(func=func)

    p = sub.add_parser("remind", help="gửi các thư nhắc hạn nộp đến hạn trong một ngày (mỗi thư một lần)")
    p.add_argument("--ngay", type=arguments.day, help="ngày, YYYY-MM-DD hoặc DD/MM/YYYY (mặc định: hôm nay, "
                                                      "giờ Việt Nam)")
    p.set_defaults(func=cmd_remind)

    p = sub.add_parser("docs", help="tạo lại docs/data-dictionary.md (chú thích của kho dữ liệu) và docs/rules.md "
                                    "(các bộ quy tắc kiểm tra)")
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
    except WarehouseUnavailable as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 1
