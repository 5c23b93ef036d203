"""Pure normalisation and parsing of single cell values (spec: "Normalisation").

Every function here takes one value as the workbook gives it (a `str` for xlsx cells read as text
and for CSV cells, or an `int`/`float`/`datetime` when a caller already has a typed value) and
either returns the canonical form or raises a `ParseError` subclass saying why it cannot.
Nothing here knows about sheets or rows: the reader adds where a value came from.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# Excel's day 0 in the 1900 date system, shifted by Excel's fictitious 29 Feb 1900 (serial 60).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_EXCEL_SERIAL = 2_958_465  # 31/12/9999
_EXCEL_LEAP_BUG_END = dt.datetime(1900, 3, 1)
# what PostgreSQL's integer holds: every count column of staging and core. A larger count is no count a
# school can have, and loading it would fail the whole batch's transaction: it is reported instead.
MAX_COUNT = 2**31 - 1

# Spaces a spreadsheet may carry: regular, no-break and narrow no-break, tab and line breaks.
_WHITESPACE = re.compile(r"[\s\u00a0\u202f\u2007\u200b\ufeff]+")
_COUNT_PLAIN = re.compile(r"[+-]?\d+")
_COUNT_TRAILING_ZEROS = re.compile(r"([+-]?\d+)\.0+")
# A whole number with a Vietnamese decimal comma and one or two zeros (`12,0`, `1.234,00`); three zeros would
# read as an English thousands group (`12,000`), so they are not taken. And a trailing dot (`12.`).
_COUNT_COMMA_ZEROS = re.compile(r"([+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)),0{1,2}")
_COUNT_TRAILING_DOT = re.compile(r"([+-]?\d+)\.")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})  # a typographic minus, an en dash before a number
# Thousands groups: the first group has no leading zero ("0.123" is not 123).
_COUNT_DOT_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+")
_COUNT_SPACE_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(?: \d{3})+")
_DECIMAL_VN = re.compile(r"[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d+)?")
_DECIMAL_POINT = re.compile(r"[+-]?\d+\.\d+")
_DECIMAL_SPACE_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(?: \d{3})+(?:,\d+)?")
_DATE_DMY = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})")
# The way a Vietnamese document dates itself, maybe after the place: `Quỳnh Nhai, ngày 16 tháng 6 năm 2020`
_DATE_VN_WORDS = re.compile(r"(?:[^\d,]*,\s*)?ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_SERIAL = re.compile(r"\d+(?:\.\d+)?")
_CODE_FLOAT = re.compile(r"(\d+)\.0+")


class ParseError(ValueError):
    """A cell value that cannot be read as its column's type."""


class NotANumber(ParseError):
    """Not a whole number (counts), not a decimal number, or not a date."""


class CountTooLarge(NotANumber):
    """A whole number beyond MAX_COUNT."""


class InvalidValue(ParseError):
    """A value outside an enumeration or flag's accepted spellings."""


def is_blank(value: Any) -> bool:
    """True for None, NaN and text made only of whitespace: the cell counts as empty."""
    if value is None:
        return True
    if isinstance(value, str):
        stripped = value.strip()  # C-level; zero-width marks are not `isspace` and need the pattern
        return not stripped or (stripped[0] in "\u200b\ufeff" and not _WHITESPACE.sub("", stripped))
    return isinstance(value, float) and math.isnan(value)


def collapse_whitespace(text: str) -> str:
    """Every run of whitespace (line breaks, tabs, no-break and zero-width spaces included) as one space,
    the ends stripped.

    A printable text holds no whitespace but the ASCII space (line breaks, tabs, no-break and zero-width
    spaces are Unicode separators or controls): without a double space it only needs its ends stripped,
    which skips the pattern for almost every cell."""
    if text.isprintable() and "  " not in text:
        return text.strip()
    return _WHITESPACE.sub(" ", text).strip()


def normalize_label(s: Any) -> str:
    """NFC, case-folded, whitespace (line breaks and no-break spaces included) collapsed to one space."""
    return collapse_whitespace(unicodedata.normalize("NFC", str(s))).casefold()


def loose_label(s: Any) -> str:
    """`normalize_label` without diacritics, and `đ` read as `d`: the fallback form for matching."""
    return _without_marks(normalize_label(s))


def _without_marks(normalized: str) -> str:
    decomposed = unicodedata.normalize("NFD", normalized)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare).replace("đ", "d")


def compact_label(s: Any) -> str:
    """`loose_label` with every space and punctuation mark removed (`Trình độ CBQL: TC` -> `trinhdocbqltc`).

    Used to match a label split over two header rows, where the separator between the parts is lost.
    """
    return _compact(loose_label(s))


def _compact(loose: str) -> str:
    # what the pattern `[\W_]+` removes, without it: `\w` is `str.isalnum` or `_`. The reader matches a
    # title row's text in every file, and a pattern's first use after fastexcel costs 10-30 us (cold).
    return "".join(filter(str.isalnum, loose))


# What a header cell adds around a column's name: an enumeration before it (`1.`, `(2)`, `a)`) and a unit,
# a column number or a mark after it (`(người)`, `(1)`, `*`); and the abbreviations every staff table uses.
_ENUMERATION = re.compile(r"(?:\(?\d{1,2}[.)]\)?|\(\d{1,2}\)|\(?[a-z][.)])\s+")
_TRAILING_NOTE = re.compile(r"\s*(?:\([^()]*\)|\*+|:)\s*$")
_ABBREVIATIONS = {"gv": "giao vien", "cbql": "can bo quan ly", "nv": "nhan vien"}
_WORD = re.compile(r"[^\W_]+")


def bare_label(s: Any) -> str:
    """`compact_label` of the label without an enumeration before it or a note in brackets after it, with
    `GV`, `CBQL` and `NV` written out: the last form for matching (`1. Tổng số GV (người)` and `Tổng số
    giáo viên` give the same form). A text that is only a note keeps it."""
    return bare_of_loose(loose_label(s))


def bare_of_loose(loose: str) -> str:
    """`bare_label` of a text's `loose_label`."""
    enumeration = _ENUMERATION.match(loose)
    text = loose[enumeration.end():] if enumeration else loose
    for _ in range(2):  # a unit and a column number: `Kinh phí (triệu đồng) (7)`
        text = _TRAILING_NOTE.sub("", text) or text
    return _compact(_WORD.sub(lambda word: _ABBREVIATIONS.get(word[0], word[0]), text))


def names_a_ratio(loose: str, marks: Iterable[str]) -> bool:
    """Whether a text's `loose_label` holds one of `marks` (in their loose form): a sign (`%`) anywhere, a word
    (`ty le`) as whole words. Such a header is a computed ratio beside a count, whatever else it says."""
    words = None
    for mark in marks:
        if not any(ch.isalnum() for ch in mark):
            if mark in loose:
                return True
            continue
        if words is None:
            words = f" {' '.join(''.join(ch if ch.isalnum() else ' ' for ch in loose).split())} "
        if f" {mark} " in words:
            return True
    return False


def trailing_notes(loose: str) -> list[str]:
    """The notes in brackets that `bare_of_loose` drops from the end of a text's `loose_label`, last first,
    but a column number (`kinh phi (trieu dong) (7)` -> [`trieu dong`])."""
    notes = []
    text = loose
    for _ in range(2):
        note = _TRAILING_NOTE.search(text)
        if note is None or note.start() == 0:
            break
        inner = note[0].strip()
        if inner[:1] == "(" and not inner[1:-1].strip().isdigit():
            notes.append(inner[1:-1].strip())
        text = text[: note.start()]
    return notes


def note_agrees(written: str, template: str) -> bool:
    """Whether a note in brackets after a label (a unit, an age range: loose forms) says what the template's
    note of that label says: the same once spaces and punctuation are dropped (`0 - 2 tuoi`), an abbreviation
    of it (its letters in order from the same first one: `tr.d`, `trieu`, `0-2`), a text holding it (`dvt:
    trieu dong`), or a first word abbreviating the template's first word (`trieu vnd`). Another number or
    unit differs: `0-3 tuoi` is not `0-2 tuoi`, `nghin dong` not `trieu dong`."""
    short, long = _compact(written), _compact(template)
    if short == long or long in short or _abbreviates(short, long):
        return True
    words, template_words = _WORD.findall(written), _WORD.findall(template)
    return (bool(words and template_words) and words[0].isalpha() and template_words[0].isalpha()
            and _abbreviates(words[0], template_words[0]))


def _abbreviates(short: str, long: str) -> bool:
    """`short` is made of letters of `long` in their order, from its first letter (`trd` of `trieudong`)."""
    if not short or short[0] != long[:1]:
        return False
    rest = iter(long)
    return all(ch in rest for ch in short)


def may_be_dressed(loose: str) -> bool:
    """Whether `bare_of_loose` may differ from the compact form (cheap, no pattern): a bracket, a mark, an
    enumeration's first character or an abbreviation's letters. False means the compact form is the bare."""
    return (loose[:1].isdigit() or loose[1:2] in (")", ".") or "(" in loose or "*" in loose or ":" in loose
            or "gv" in loose or "cbql" in loose or "nv" in loose)


# A header written over several rows, read as a set of terms (`header_terms` and `header_fillers` in the layout).
HeaderVocabulary = tuple[dict[tuple[str, ...], tuple[str, ...]], int]  # loose words -> their terms; longest phrase
_COLUMN_NUMBER_NOTE = re.compile(r"\s*\(\s*\d{1,3}\s*\)\s*$")


def header_vocabulary(
    terms: Iterable[tuple[str, Iterable[str], str | None]], fillers: Iterable[str]
) -> HeaderVocabulary:
    """The phrases (as tuples of loose words) of each `(term, spellings, implied term)` and of each filler (no
    term), with the longest phrase's length, for `header_terms`."""
    phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
    for filler in fillers:
        phrases[tuple(_WORD.findall(loose_label(filler)))] = ()
    for term, spellings, implied in terms:
        for spelling in spellings:
            phrases[tuple(_WORD.findall(loose_label(spelling)))] = (term, implied) if implied else (term,)
    phrases.pop((), None)
    return phrases, max(map(len, phrases), default=0)


def header_terms(text: str, vocabulary: HeaderVocabulary) -> frozenset[str]:
    """The terms a header text says, in any order: each phrase of the vocabulary (longest first) stands for its
    terms, a filler for none, every other word for itself (`Trình độ đào tạo GV` -> {trinh_do, gv}). An
    enumeration before the text and a column number after it (`(5)`) are dropped; a note in brackets is read
    as words, so `(nữ)` is a word no template label has."""
    loose = loose_label(text)
    enumeration = _ENUMERATION.match(loose)
    loose = _COLUMN_NUMBER_NOTE.sub("", loose[enumeration.end():] if enumeration else loose)
    phrases, longest = vocabulary
    words = _WORD.findall(loose)
    found: set[str] = set()
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            terms = phrases.get(tuple(words[i:i + n]))
            if terms is not None:
                found.update(terms)
                i += n
                break
        else:
            found.add(words[i])
            i += 1
    return frozenset(found)


# A sheet's name as workbooks dress it: a form's number before it (`1. `, `Biểu 1 - `, `Biểu số 01 `) and
# Excel's copy number after it (`TruongLop (2)`).
_SHEET_PREFIX = re.compile(r"(?:(?:bieu|bang|mau|phu luc)\s*(?:so\s*)?)?\d{1,3}\s*[.:)_-]*\s*")
_SHEET_COPY = re.compile(r"\s*(?:\(\d{1,2}\)|-\s*(?:bang|table)\s*\d{1,2})$")
# a copy's prefix, as Google Sheets names a duplicated sheet in Vietnamese and in English
_SHEET_COPY_OF = re.compile(r"(?:ban sao cua|copy of)\s+")


def bare_sheet_name(s: Any) -> str:
    """A sheet name without its form number or copy marks, letters and digits only (`Biểu 1 - Trường_lớp
    (2)` -> `truonglop`): the second form for matching sheet names. Copy marks: Excel's `(2)`, Google Sheets'
    `Bản sao của …` / `Copy of …`, and Apple Numbers' table suffix `… - Bảng 1` / `… - Table 1`."""
    loose = loose_label(s)
    copy_of = _SHEET_COPY_OF.match(loose)
    loose = loose[copy_of.end():] if copy_of else loose
    prefix = _SHEET_PREFIX.match(loose)
    bare = _SHEET_COPY.sub("", loose[prefix.end():] if prefix else loose)
    return _compact(bare or loose)


def label_forms(s: Any) -> Iterator[str]:
    """`normalize_label(s)`, `loose_label(s)` and `compact_label(s)` in turn, each made from the one before.

    Lazy, for a caller that stops at the first form it knows: a text matching nothing costs one
    normalisation instead of the three that calling the functions in turn would repeat.
    """
    normalized = normalize_label(s)
    yield normalized
    loose = _without_marks(normalized)
    yield loose
    yield _compact(loose)


def normalize_sheet_name(s: Any) -> str:
    """Sheet-name form for matching: loose label with all spaces removed (`Thông tin` -> `thongtin`)."""
    return loose_label(s).replace(" ", "")


def _text(value: Any) -> str:
    return collapse_whitespace(str(value))


def parse_code(value: Any) -> str | None:
    """A code as text: `116`, `116.0`, `'116` and ` 116 ` give `"116"`; `014` stays `"014"`; empty gives None."""
    if is_blank(value) or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = _text(value).lstrip("'").strip()
    if not text:
        return None
    integral = _CODE_FLOAT.fullmatch(text) if "." in text else None  # no pattern for a code without a point
    return integral.group(1) if integral else text


def restore_leading_zeros(code: str | None, width: int) -> str | None:
    """A code of `width` digits read from a number cell, which kept no leading zero: `6058001` is `06058001`."""
    if code is not None and len(code) < width and code.isascii() and code.isdigit():
        return code.zfill(width)
    return code


def _checked_count(number: int, value: Any) -> int:
    if abs(number) > MAX_COUNT:
        raise CountTooLarge(f"number too large: {value!r}")
    return number


def parse_count(value: Any) -> int:
    """A whole number (may be negative: the caller reports negatives).

    Accepts ints, integral floats (12.0) and text: `12`, `12.0`, `12,0`, `12.`, `1.234` / `1 234` (thousands
    groups of exactly three digits), with surrounding spaces, a typographic minus read as `-`. Raises
    `NotANumber` for anything else, empty included.
    """
    if isinstance(value, bool):
        raise NotANumber(f"not a whole number: {value!r}")
    if isinstance(value, int):
        return _checked_count(value, value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return _checked_count(int(value), value)
        raise NotANumber(f"not a whole number: {value!r}")
    if not isinstance(value, str):
        raise NotANumber(f"not a whole number: {value!r}")
    text = collapse_whitespace(value)
    if len(text) > 30:
        raise NotANumber(f"not a whole number: {value!r}")
    if (text.isascii() and text.isdigit()) or _COUNT_PLAIN.fullmatch(text):  # plain digits without the pattern
        return _checked_count(int(text), value)
    if _COUNT_DOT_GROUPS.fullmatch(text):
        return _checked_count(int(text.replace(".", "")), value)
    if _COUNT_SPACE_GROUPS.fullmatch(text):
        return _checked_count(int(text.replace(" ", "")), value)
    trailing = _COUNT_TRAILING_ZEROS.fullmatch(text) or _COUNT_TRAILING_DOT.fullmatch(text)
    if trailing:
        return _checked_count(int(trailing.group(1)), value)
    comma = _COUNT_COMMA_ZEROS.fullmatch(text)
    if comma:
        return _checked_count(int(comma.group(1).replace(".", "")), value)
    if text[:1] in "\u2212\u2013" and len(text) > 1:
        return parse_count(text.translate(_MINUS_SIGNS))
    raise NotANumber(f"not a whole number: {value!r}")


def parse_decimal(value: Any) -> float:
    """A decimal number. Numbers are taken as they are; text follows the Vietnamese convention.

    Text: comma = decimal separator, dot or space = thousands separator (`1.250,5`, `12,5`, `1 250,5`).
    A single dot that cannot be a thousands separator (`12.5`, `0.125`) is a decimal point.
    Raises `NotANumber` otherwise.
    """
    if isinstance(value, bool):
        raise NotANumber(f"not a number: {value!r}")
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise NotANumber(f"not a number: {value!r}")
        return number
    if not isinstance(value, str):
        raise NotANumber(f"not a number: {value!r}")
    text = collapse_whitespace(value)
    if len(text) > 40:
        raise NotANumber(f"not a number: {value!r}")
    if _DECIMAL_VN.fullmatch(text):
        return float(text.replace(".", "").replace(",", "."))
    if _DECIMAL_SPACE_GROUPS.fullmatch(text):
        return float(text.replace(" ", "").replace(",", "."))
    if _DECIMAL_POINT.fullmatch(text):
        return float(text)
    if text[:1] in "\u2212\u2013" and len(text) > 1:
        return parse_decimal(text.translate(_MINUS_SIGNS))
    raise NotANumber(f"not a number: {value!r}")


def _date_from_serial(serial: float, value: Any) -> dt.date:
    if not (1 <= serial <= _MAX_EXCEL_SERIAL):
        raise NotANumber(f"not a date: {value!r}")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def excel_serial(moment: dt.datetime) -> float:
    """The Excel serial number (1900 system) a date and time stands for, as calamine reads one: Excel counts
    a 29 February 1900 that never was, so before 1 March 1900 the days count from 31 December 1899."""
    epoch = dt.datetime.combine(_EXCEL_EPOCH, dt.time())
    days = (moment - epoch) / dt.timedelta(days=1)
    return days if moment >= _EXCEL_LEAP_BUG_END else days - 1


def _checked_date(year: int, month: int, day: int, value: Any) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise NotANumber(f"not a date: {value!r}") from exc


# A school year as clerks write it: `2019-2020`, `2019 - 2020`, `2019–2020` (a dash from a word processor),
# `2019/2020`, `2019-20`, with or without `Năm học` before it.
_SCHOOL_YEAR = re.compile(r"(?:năm\s*học\s*:?\s*)?(\d{4})\s*[-‐‑‒–—―/]\s*(\d{4}|\d{2})")


def parse_school_year(value: Any) -> str | None:
    """A school year in its canonical form `2019-2020` when it is written in one of the unambiguous ways
    above (a two-digit second year only when it is the year after the first: `2019-20`); anything else
    as written (whitespace collapsed), for the rules to report; empty gives None."""
    if is_blank(value):
        return None
    text = " ".join(_text(value).split())
    match = _SCHOOL_YEAR.fullmatch(text.casefold())
    if match is None:
        return text
    first, second = int(match[1]), int(match[2])
    if len(match[2]) == 2:
        if second != (first + 1) % 100:
            return text
        second = first + 1
    return f"{first}-{second}"


def parse_date(value: Any) -> dt.date:
    """A date from a datetime/date, an Excel serial number (1900 system), `dd/mm/yyyy` or ISO text.

    Text `dd/mm/yyyy` is read day first (also with `.` or `-`, spaces around them, or a two-digit year,
    which is of this century: a report's date); so is `ngày dd tháng mm năm yyyy`, maybe after the place;
    ISO `yyyy-mm-dd` may carry a time, which is dropped. Raises `NotANumber` for anything else.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise NotANumber(f"not a date: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise NotANumber(f"not a date: {value!r}")
        return _date_from_serial(float(value), value)
    if not isinstance(value, str):
        raise NotANumber(f"not a date: {value!r}")
    text = _text(value)
    if match := _DATE_ISO.fullmatch(text):
        return _checked_date(int(match[1]), int(match[2]), int(match[3]), value)
    if match := _DATE_DMY.fullmatch(text):
        year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
        return _checked_date(year, int(match[2]), int(match[1]), value)
    if match := _DATE_VN_WORDS.fullmatch(unicodedata.normalize("NFC", text).casefold()):
        return _checked_date(int(match[3]), int(match[2]), int(match[1]), value)
    if _SERIAL.fullmatch(text) and len(text) <= 20:
        return _date_from_serial(float(text), value)
    raise NotANumber(f"not a date: {value!r}")


_LOOKUPS: dict[int, tuple[Mapping[Any, Iterable[str]], dict[str, Any], dict[str, Any]]] = {}


def _spelling_lookup(mapping: Mapping[Any, Iterable[str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Exact (normalised) and loose spelling -> target, built once per mapping object.

    A loose spelling shared by two targets is left out: it would be a guess.
    """
    cached = _LOOKUPS.get(id(mapping))
    if cached is not None and cached[0] is mapping:
        return cached[1], cached[2]
    exact: dict[str, Any] = {}
    loose: dict[str, Any] = {}
    ambiguous: set[str] = set()
    for target, spellings in mapping.items():
        for spelling in (str(target), *spellings):
            exact.setdefault(normalize_label(spelling), target)
            key = loose_label(spelling)
            if loose.get(key, target) != target:
                ambiguous.add(key)
            loose.setdefault(key, target)
    for key in ambiguous:
        del loose[key]
    _LOOKUPS[id(mapping)] = (mapping, exact, loose)
    return exact, loose


def _lookup_spelling(value: Any, mapping: Mapping[Any, Iterable[str]]) -> Any:
    exact, loose = _spelling_lookup(mapping)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    label = normalize_label(value)
    if label in exact:
        return exact[label]
    target = loose.get(loose_label(label))
    if target is None:
        raise InvalidValue(f"unknown value: {value!r}")
    return target


def parse_enum(value: Any, mapping: Mapping[str, Iterable[str]]) -> str:
    """The enumeration key for a written form: `mapping` is key -> accepted spellings (the key itself too).

    Matching is on the normalised form, then without diacritics. Raises `InvalidValue` when nothing
    matches, empty included.
    """
    if is_blank(value):
        raise InvalidValue("empty value")
    return str(_lookup_spelling(value, mapping))


def parse_flag(value: Any, mapping: Mapping[int, Iterable[str]]) -> int:
    """0 or 1 for a written flag (`mapping` is 1/0 -> spellings); an empty cell is 0.

    Raises `InvalidValue` for a spelling in neither list.
    """
    if is_blank(value):
        return 0
    if isinstance(value, bool):
        return int(value)
    return int(_lookup_spelling(value, mapping))
