"""etl/normalize.py: one cell value in, its canonical form out, or a ParseError saying why not."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.layout import load_layout
from etl.normalize import (
    _WHITESPACE,
    MAX_COUNT,
    CountTooLarge,
    InvalidValue,
    NotANumber,
    bare_label,
    collapse_whitespace,
    compact_label,
    is_blank,
    label_forms,
    loose_label,
    normalize_label,
    normalize_sheet_name,
    parse_code,
    parse_count,
    parse_date,
    parse_decimal,
    parse_enum,
    parse_flag,
    parse_school_year,
)

LAYOUT = load_layout()


def test_normalize_label_nfc_casefold_whitespace() -> None:
    nfd = unicodedata.normalize("NFD", "Số  trẻ\nNHÀ TRẺ ")
    assert normalize_label(nfd) == "số trẻ nhà trẻ"
    assert normalize_label("Tổng\u00a0cộng") == "tổng cộng"


def test_loose_label_drops_diacritics_and_reads_d_for_dj() -> None:
    assert loose_label("Đạt chuẩn quốc gia") == "dat chuan quoc gia"
    assert loose_label("TRÌNH ĐỘ") == "trinh do"


def test_compact_label_drops_spaces_and_punctuation() -> None:
    assert compact_label("Trình độ CBQL: dưới TC") == compact_label("trình độ cbql dưới tc") == "trinhdocbqlduoitc"


@pytest.mark.parametrize("name", ["Thông tin", "THONG TIN", "ThongTin", " thông  tin "])
def test_sheet_names_normalise_to_one_form(name: str) -> None:
    assert normalize_sheet_name(name) == "thongtin"


def test_compact_labels_are_unambiguous_within_each_sheet() -> None:
    for sheet in LAYOUT.sheets.values():
        forms = [compact_label(label) for column in sheet.columns for label in column.labels]
        assert len(forms) == len(set(forms)), sheet.name


@pytest.mark.parametrize(
    ("value", "code"),
    [(116, "116"), (116.0, "116"), ("'116", "116"), (" 116 ", "116"), ("116.0", "116"), ("014", "014"),
     ("0010000", "0010000"), (14118001, "14118001"), (None, None), ("  ", None)],
)  # fmt: skip
def test_parse_code(value: object, code: str | None) -> None:
    assert parse_code(value) == code


@pytest.mark.parametrize(
    ("value", "count"),
    [("12", 12), (12, 12), (12.0, 12), ("12.0", 12), ("1.234", 1234), ("1 234", 1234), ("2.345.678", 2345678),
     ("1\u00a0234", 1234), (" 7 ", 7), ("-3", -3), ("12.000", 12000), ("12,0", 12), ("12,00", 12),
     ("1.234,0", 1234), ("12.", 12), ("\u22125", -5), ("\u20133", -3)],
)  # fmt: skip
def test_parse_count_accepts_whole_numbers(value: object, count: int) -> None:
    assert parse_count(value) == count


@pytest.mark.parametrize(
    "value", ["12,5", "12.5", 12.5, "0.123", "1.23", "1.2345", "abc", "", None, True, "1_000", "1e3", "9" * 30,
              "12,000", "1,234", "12..", "1.234.", ",0", "\u2212", "\u2212\u22125"]
)
def test_parse_count_rejects_everything_else(value: object) -> None:
    with pytest.raises(NotANumber):
        parse_count(value)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, float(2**31), "2147483648", "2.147.483.648", "3 000 000 000"])
def test_parse_count_reports_counts_beyond_postgresql_integer(value: object) -> None:
    with pytest.raises(CountTooLarge):
        parse_count(value)
    assert parse_count(MAX_COUNT) == parse_count("2.147.483.647") == 2**31 - 1


@pytest.mark.parametrize(
    ("value", "number"),
    [("12,5", 12.5), ("1.250,5", 1250.5), ("1 250,5", 1250.5), ("12.5", 12.5), ("0.125", 0.125), ("1.234", 1234.0),
     (1.234, 1.234), (3, 3.0), ("7", 7.0), ("\u22121,5", -1.5)],
)  # fmt: skip
def test_parse_decimal(value: object, number: float) -> None:
    assert parse_decimal(value) == number


@pytest.mark.parametrize("value", ["1,234.5", "12,5 triệu", "", "abc", float("nan")])
def test_parse_decimal_rejects(value: object) -> None:
    with pytest.raises(NotANumber):
        parse_decimal(value)


@pytest.mark.parametrize(
    "value",
    [dt.date(2020, 6, 16), dt.datetime(2020, 6, 16, 8, 30), 43998, 43998.0, "43998", "16/06/2020", "16.06.2020",
     "2020-06-16", "2020-06-16 00:00:00", "2020-06-16T00:00:00"],
)  # fmt: skip
def test_parse_date(value: object) -> None:
    assert parse_date(value) == dt.date(2020, 6, 16)


@pytest.mark.parametrize("value", ["31/02/2020", "2020-13-01", "hôm nay", 0, -5, "", None])
def test_parse_date_rejects(value: object) -> None:
    with pytest.raises(NotANumber):
        parse_date(value)


def test_parse_enum_by_key_label_and_loose_form() -> None:
    kinds = LAYOUT.enums["loai_hinh"]
    assert parse_enum("cong_lap", kinds) == "cong_lap"
    assert parse_enum("Công lập", kinds) == "cong_lap"
    assert parse_enum("CONG LAP", kinds) == "cong_lap"
    assert parse_enum(unicodedata.normalize("NFD", "Tư thục"), kinds) == "tu_thuc"
    assert parse_enum("Xã hội hoá", LAYOUT.enums["nguon_kinh_phi"]) == "xa_hoi_hoa"
    with pytest.raises(InvalidValue):
        parse_enum("abc", kinds)
    with pytest.raises(InvalidValue):
        parse_enum(None, kinds)


@pytest.mark.parametrize(
    ("value", "flag"),
    [("1", 1), (1, 1), (1.0, 1), ("x", 1), ("X", 1), ("Có", 1), ("Đạt", 1), ("0", 0), ("Không", 0), ("Chưa", 0),
     ("Chưa đạt", 0), (None, 0), ("  ", 0)],
)  # fmt: skip
def test_parse_flag(value: object, flag: int) -> None:
    assert parse_flag(value, LAYOUT.flags) == flag


def test_parse_flag_rejects_unknown_spelling() -> None:
    with pytest.raises(InvalidValue):
        parse_flag("có lẽ", LAYOUT.flags)


@pytest.mark.parametrize(("value", "blank"), [(None, True), ("", True), (" \n\u00a0", True), ("\u200b", True),
                                               ("0", False), (0, False), (float("nan"), True)])  # fmt: skip
def test_is_blank(value: object, blank: bool) -> None:
    assert is_blank(value) is blank


_ODD_LABELS = ["Trình độ  CBQL:\nTC", "İstanbul ß Đ", "e\u0301\u00a0x"]


@given(st.text(max_size=40) | st.sampled_from(_ODD_LABELS))
def test_label_forms_are_the_three_label_functions(text: str) -> None:
    assert list(label_forms(text)) == [normalize_label(text), loose_label(text), compact_label(text)]


@given(st.text(alphabet=st.sampled_from(["a", "Đ", "ệ", " ", "\n", "\t", "\u00a0", "\u202f", "\u2007", "\u200b",
                                         "\ufeff", "\u2028", "\u3000", "\x85", "1", ","]), max_size=12))
def test_collapse_whitespace_is_the_pattern(text: str) -> None:
    assert collapse_whitespace(text) == _WHITESPACE.sub(" ", text).strip()


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2019-2020", "2019-2020"),
        ("2019 - 2020", "2019-2020"),
        ("  2019–2020 ", "2019-2020"),  # en dash
        ("2019/2020", "2019-2020"),
        ("2019-20", "2019-2020"),
        ("Năm học 2019-2020", "2019-2020"),
        ("NĂM HỌC: 2019 - 2020", "2019-2020"),
        ("1999-00", "1999-2000"),
        # left as written, for the rules to report: not a school year, or one that is no next year
        ("2019-21", "2019-21"),
        ("2019-2021", "2019-2021"),
        ("2019", "2019"),
        ("năm  2019-2020", "năm 2019-2020"),
        ("20192020", "20192020"),
    ],
)
def test_school_years_written_unambiguously_read_canonical_and_the_rest_as_written(written: str, read: str) -> None:
    assert parse_school_year(written) == read


def test_an_empty_school_year_is_none() -> None:
    assert parse_school_year("  ") is None and parse_school_year(None) is None


@pytest.mark.parametrize(
    ("written", "date"),
    [("15/6/2020", dt.date(2020, 6, 15)), ("15 / 06 / 2020", dt.date(2020, 6, 15)), ("15/06/20", dt.date(2020, 6, 15)),
     ("ngày 15 tháng 6 năm 2020", dt.date(2020, 6, 15)), ("Ngày 05 tháng 06 năm 2020", dt.date(2020, 6, 5)),
     ("Quỳnh Nhai, ngày 16 tháng 6 năm 2020", dt.date(2020, 6, 16)),
     (unicodedata.normalize("NFD", "ngày 16 tháng 6 năm 2020"), dt.date(2020, 6, 16))],
)  # fmt: skip
def test_dates_as_vietnamese_documents_write_them(written: str, date: dt.date) -> None:
    assert parse_date(written) == date


@pytest.mark.parametrize("written", ["6/15/2020", "ngày 31 tháng 2 năm 2020", "tháng 6 năm 2020", "15/06/2020 x"])
def test_dates_that_are_not_one_day_are_not_a_date(written: str) -> None:
    with pytest.raises(NotANumber):
        parse_date(written)


def test_bare_labels_drop_enumerations_notes_and_abbreviations_and_keep_a_lone_note() -> None:
    assert bare_label("1. Tổng số GV (người)") == bare_label("Tổng số giáo viên") == "tongsogiaovien"
    assert bare_label("CBQL xếp loại Tốt") == bare_label("Cán bộ quản lý xếp loại tốt")
    assert bare_label("(người)") == "nguoi"
    assert bare_label("Kinh phí (triệu đồng)") == "kinhphi"
