"""The command line's arguments (etl/arguments.py): read as operators type them, refused in Vietnamese with exit 2
before anything runs (spec/interfaces.md)."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from etl import arguments
from etl.cli import build_parser


def refusal(capsys, *argv: str) -> str:
    """parse argv, expecting argparse to refuse it with exit status 2; returns what it wrote to stderr."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("command", [["report"], ["lock", "--ky", "CN"], ["unlock", "--ky", "CN", "--ly-do", "x"],
                                     ["template", "--ma-don-vi", "118", "--out", "t.xlsx"],
                                     ["ingest", "f.xlsx", "--ky-bao-cao", "CN"]])
@pytest.mark.parametrize("written", ["2019", "2019-2021", "19-20", "abc"])
def test_a_malformed_school_year_is_refused_before_anything_runs(capsys, command, written):
    """`lock --nam-hoc 2019` locked a period no file ever names, `ingest --nam-hoc 2019` rejected every district's
    file of the night as wrong_period (and alerted them), `template --nam-hoc 2019` wrote that into the template's
    ThongTin, and `report --nam-hoc 2019` said the warehouse had no figures for it."""
    err = refusal(capsys, *command, "--nam-hoc", written)
    assert f"lỗi: tham số --nam-hoc: năm học '{written}' không đúng dạng NNNN-NNNN" in err


@pytest.mark.parametrize("written", ["2019/2020", "2019 - 2020", "2019–2020", "2019-20", "Năm học 2019-2020"])
def test_a_school_year_is_read_as_thongtin_reads_it(written):
    """A file's ThongTin `2019/2020` is the period 2019-2020; the same words on the command line must be too, or
    `ingest --nam-hoc 2019/2020 --ky-bao-cao CN` rejects every file of 2019-2020 as another period."""
    args = build_parser().parse_args(["ingest", "f.xlsx", "--nam-hoc", written, "--ky-bao-cao", "CN"])
    assert (args.nam_hoc, args.ky_bao_cao) == ("2019-2020", "CN")


def test_a_school_year_not_begun_is_refused_but_a_template_may_be_prepared_a_year_ahead():
    """On 1 July 2025 the school year 2025-2026 has not begun (it starts in August): nothing can be received,
    reported or locked for it, but its template can be prepared."""
    july = dt.date(2025, 7, 1)
    assert arguments.school_year("2024-2025", today=july) == "2024-2025"
    with pytest.raises(argparse.ArgumentTypeError, match="năm học 2025-2026 chưa bắt đầu \\(năm học hiện tại: "
                                                         "2024-2025\\)"):
        arguments.school_year("2025-2026", today=july)
    assert arguments.school_year("2025-2026", today=july, years_ahead=1) == "2025-2026"


def test_a_far_future_school_year_is_refused_on_the_command_line(capsys):
    err = refusal(capsys, "lock", "--nam-hoc", "2090-2091", "--ky", "CN")
    assert "lỗi: tham số --nam-hoc: năm học 2090-2091 chưa bắt đầu" in err


@pytest.mark.parametrize(("written", "round_"), [("CN", "CN"), ("cn", "CN"), ("hki", "HKI"), ("Học kỳ I", "HKI"),
                                                 ("Cuối năm", "CN")])
def test_a_round_is_read_as_thongtin_reads_it(written, round_):
    args = build_parser().parse_args(["lock", "--nam-hoc", "2019-2020", "--ky", written])
    assert args.ky == round_


@pytest.mark.parametrize("command", [["lock", "--nam-hoc", "2019-2020", "--ky"],
                                     ["ingest", "f.xlsx", "--nam-hoc", "2019-2020", "--ky-bao-cao"]])
def test_a_round_other_than_hki_or_cn_is_refused_in_vietnamese(capsys, command):
    err = refusal(capsys, *command, "HKII")
    assert "kỳ báo cáo 'HKII' không hợp lệ: HKI (sơ kết học kỳ I) hoặc CN (tổng kết cả năm)" in err
    assert "invalid choice" not in err


def test_argparse_refusals_are_in_vietnamese(capsys):
    assert "tonghop report: lỗi: cần một trong các tham số --nam-hoc --giai-doan" in refusal(capsys, "report")
    both = refusal(capsys, "report", "--nam-hoc", "2019-2020", "--giai-doan", "2021-2025")
    assert "lỗi: tham số --giai-doan không dùng cùng --nam-hoc" in both, "one report at a time, none ignored"
    assert "lỗi: thiếu tham số bắt buộc: --ma-don-vi" in refusal(capsys, "template", "--out", "t.xlsx")
    unknown = refusal(capsys, "baocao")
    assert "lỗi: tham số LỆNH: giá trị 'baocao' không hợp lệ (chọn một trong 'demo'" in unknown
    assert "cách dùng: tonghop" in unknown


def test_a_phase_is_read_with_its_dash_as_typed(capsys):
    assert build_parser().parse_args(["report", "--giai-doan", "2021 – 2025"]).giai_doan == "2021-2025"
    assert "giai đoạn '2021' không đúng dạng NNNN-NNNN" in refusal(capsys, "report", "--giai-doan", "2021")


@pytest.mark.parametrize("written", ["2020-06-15", "15/06/2020", "15-06-2020"])
def test_a_reminder_day_is_read_iso_or_as_vietnamese_write_it(written):
    assert build_parser().parse_args(["remind", "--ngay", written]).ngay == dt.date(2020, 6, 15)


def test_an_impossible_reminder_day_is_refused_in_vietnamese(capsys):
    err = refusal(capsys, "remind", "--ngay", "2020-13-01")
    assert "lỗi: tham số --ngay: ngày '2020-13-01' không hợp lệ" in err
    assert "month must be" not in err


def test_help_is_in_vietnamese(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["report", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("cách dùng: tonghop report")
    assert "--out THƯ_MỤC" in out and "mặc định $TONGHOP_HOME/reports" in out
    assert "show this help" not in out
