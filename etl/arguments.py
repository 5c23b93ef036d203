"""The command line's arguments as operators type them: read the way the reader reads a workbook's ThongTin
(`2019/2020` is the school year `2019-2020`, `Cuối năm` the round `CN`), checked before anything runs, and
refused in Vietnamese (spec/interfaces.md: errors for bad arguments are clear and exit non-zero)."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from typing import NoReturn

from etl.config import TZ
from etl.layout import load_layout, template_versions
from etl.normalize import InvalidValue, NotANumber, parse_date, parse_enum, parse_school_year
from etl.registry import FIRST_START_YEAR, LAST_START_YEAR, current_school_year

_CANONICAL_YEAR = re.compile(r"(\d{4})-(\d{4})")
_PHASE = re.compile(r"(\d{4})\s*[-‐‑‒–—―/]\s*(\d{4})")

# argparse's own messages (Python 3.11), as the Sở's operators read them
_ARGPARSE_VI = (
    (re.compile(r"the following arguments are required: (.*)"), r"thiếu tham số bắt buộc: \1"),
    (re.compile(r"unrecognized arguments: (.*)"), r"tham số không nhận ra: \1"),
    (re.compile(r"one of the arguments (.*) is required"), r"cần một trong các tham số \1"),
    (re.compile(r"argument (\S+): not allowed with argument (\S+)"), r"tham số \1 không dùng cùng \2"),
    (re.compile(r"argument (\S+): expected one argument"), r"tham số \1 cần một giá trị"),
    (re.compile(r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)"),
     r"tham số \1: giá trị \2 không hợp lệ (chọn một trong \3)"),
    (re.compile(r"argument (\S+): invalid \S+ value: (.*)"), r"tham số \1: giá trị \2 không hợp lệ"),
    (re.compile(r"argument (\S+): (.*)"), r"tham số \1: \2"),
)


def translate_argparse_message(message: str) -> str:
    """argparse's English error in Vietnamese (the first pattern that matches; others as they are)."""
    for pattern, replacement in _ARGPARSE_VI:
        if pattern.fullmatch(message):
            return pattern.sub(replacement, message)
    return message


class VietnameseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors and help headings are in Vietnamese."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "tham số"
        self._optionals.title = "tùy chọn"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="in hướng dẫn này rồi thoát")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "cách dùng:", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "cách dùng:", 1)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: lỗi: {translate_argparse_message(message)}\n")


def today_in_vietnam() -> dt.date:
    return dt.datetime.now(TZ).date()


def school_year(text: str, *, today: dt.date | None = None, years_ahead: int = 0) -> str:
    """A school year in its canonical form `2019-2020`, written as ThongTin accepts it (`2019 - 2020`,
    `2019/2020`, `2019-20`); one the warehouse holds and not later than `years_ahead` after the current one.
    A period not begun yet has nothing to receive, report or lock: a typo there would reject every file of the
    night as `wrong_period`, or lock a period no one reports."""
    year = parse_school_year(text)
    match = _CANONICAL_YEAR.fullmatch(year or "")
    if match is None or int(match[2]) != int(match[1]) + 1:
        raise argparse.ArgumentTypeError(
            f"năm học '{text}' không đúng dạng NNNN-NNNN, năm sau bằng năm trước cộng 1 (ví dụ 2019-2020)")
    current = int(current_school_year(today or today_in_vietnam())[:4])
    last = min(current + years_ahead, LAST_START_YEAR)
    start = int(match[1])
    if start > last:
        raise argparse.ArgumentTypeError(
            f"năm học {year} chưa bắt đầu (năm học hiện tại: {current}-{current + 1})")
    if start < FIRST_START_YEAR:
        raise argparse.ArgumentTypeError(
            f"năm học {year} nằm ngoài các năm học của kho dữ liệu (từ {FIRST_START_YEAR}-{FIRST_START_YEAR + 1})")
    return year


def school_year_or_next(text: str) -> str:
    """As `school_year`, also the next one: a template is prepared before its school year starts."""
    return school_year(text, years_ahead=1)


def report_round(text: str) -> str:
    """`HKI` or `CN`, written as ThongTin accepts it (`hki`, `Học kỳ I`, `Cuối năm`...)."""
    try:
        return parse_enum(text, load_layout().enums["ky_bao_cao"])
    except InvalidValue:
        raise argparse.ArgumentTypeError(
            f"kỳ báo cáo '{text}' không hợp lệ: HKI (sơ kết học kỳ I) hoặc CN (tổng kết cả năm)") from None


def phase(text: str) -> str:
    """A plan phase `2021-2025` (or a one-year phase `2019-2020`), its dash as clerks type it."""
    match = _PHASE.fullmatch(" ".join(text.split()))
    if match is None or int(match[2]) < int(match[1]):
        raise argparse.ArgumentTypeError(f"giai đoạn '{text}' không đúng dạng NNNN-NNNN (ví dụ 2021-2025)")
    return f"{match[1]}-{match[2]}"


def day(text: str) -> dt.date:
    """A day as `2020-06-15` or as Vietnamese write it, `15/06/2020`."""
    try:
        return parse_date(text.strip())
    except (NotANumber, ValueError):
        raise argparse.ArgumentTypeError(
            f"ngày '{text}' không hợp lệ: viết YYYY-MM-DD hoặc DD/MM/YYYY (ví dụ 2020-06-15 hoặc 15/06/2020)") from None


def template_version(text: str) -> str:
    """`--phien-ban`: a template version the reader accepts (etl/layouts/versions.yaml), as written there."""
    accepted = template_versions().accepted
    wanted = text.strip().casefold()
    found = next((version for version in accepted if version.casefold() == wanted), None)
    if found is None:
        raise argparse.ArgumentTypeError(
            f"phiên bản biểu mẫu '{text}' không được nhận; các phiên bản được nhận: {', '.join(accepted)}")
    return found
