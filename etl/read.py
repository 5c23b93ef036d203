"""Read district workbooks (`.xlsx`, or the `.zip` of one CSV per sheet) into `ParsedWorkbook`s: one
(`read_workbook`), or a chunk of them read together into one frame per sheet (`read_workbooks`).

The reader is generic: every sheet name, column key, label, type, enumeration and totals label comes
from the layout (`etl/layouts/`). It never raises for a bad file; what it cannot read, skips or
ignores becomes a `Finding` (spec: "Severity", "Real-world deviations").

How cells are read, and why:

- Cell values come from fastexcel (calamine, Rust) as text, one Arrow batch per sheet, without header
  inference: every column is read as a string so codes such as `0010000` keep their zeros, and
  formula cells give their cached values. Formula errors (`#REF!`) come back as per-cell errors.
- openpyxl is not used: the only facts calamine does not give are hidden columns and whether a
  cell is stored as a number or as text. Both are read from the sheet's XML part, and only when
  needed: hidden columns only for a sheet with a column that is ignored or duplicated, the storage
  type only for `decimal` columns (a number `1.234` is 1.234; the text `1.234` is 1234 in the
  Vietnamese convention). A whole workbook therefore costs one calamine pass in the common case.
- Count cells are read the same whether stored as numbers or text (spec "Numbers"); a number cell
  holding `1.234` is read as 1234, which is what a district typing `1.234` meant.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import gc
import html
import io
import logging
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.internals import create_dataframe_from_blocks
from pandas.arrays import ArrowStringArray, IntegerArray

from etl.layout import ColumnSpec, Layout, SheetSpec, template_versions
from etl.model import ROW_NUMBER, Finding, ParsedWorkbook, StackArrays, TableView
from etl.normalize import (
    MAX_COUNT,
    CountTooLarge,
    InvalidValue,
    NotANumber,
    bare_label,
    bare_of_loose,
    bare_sheet_name,
    compact_label,
    excel_serial,
    header_terms,
    header_vocabulary,
    is_blank,
    label_forms,
    loose_label,
    may_be_dressed,
    names_a_ratio,
    normalize_label,
    normalize_sheet_name,
    note_agrees,
    parse_code,
    parse_count,
    parse_date,
    parse_decimal,
    parse_enum,
    parse_flag,
    parse_school_year,
    restore_leading_zeros,
    trailing_notes,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted xlsx and legacy .xls are OLE containers
_FORMULA_ERRORS = {
    "#REF!",
    "#DIV/0!",
    "#N/A",
    "#VALUE!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
}
_CALAMINE_ERRORS = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Name": "#NAME?",
    "Null": "#NULL!",
    "Num": "#NUM!",
    "Ref": "#REF!",
    "Value": "#VALUE!",
    "GettingData": "#GETTING_DATA",
}
_STT_LABELS = {"stt", "tt", "so tt", "so thu tu"}  # loose forms of the row-number column's label
# A school code as written: no spaces, letters, digits and a few separators; notes never look like this.
_CODE_SHAPE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/-]{0,19}")
_MACHINE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_MAX_CSV_CELLS = 2_000_000
_MAX_INT64 = 2**63 - 1
_STR = pd.StringDtype(na_value=np.nan)  # pandas' default `str` dtype
_TYPE_WORDS = {"int": "số nguyên", "decimal": "số", "date": "ngày (dd/mm/yyyy)"}


class _FileProblem(Exception):
    """The whole file cannot be read: becomes the workbook's single error finding."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


# ---------------------------------------------------------------- public entry point


def read_workbook(
    path: Path,
    *,
    layout: Layout | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> ParsedWorkbook:
    """Read a district workbook; never raises for a bad file.

    A file that cannot be read at all (corrupt, truncated, password-protected, not a workbook, too
    large, a zip bomb) gives a `ParsedWorkbook` with one error finding (`unreadable_file` or
    `file_too_large`) and nothing else. Otherwise every sheet of the layout found in the file is read
    (`header`, `tables`, `totals`, `header_rows`, `sheet_names`), with a finding for everything
    skipped, ignored or unreadable.
    """
    return read_workbooks([path], layout=layout, max_file_bytes=max_file_bytes,
                          max_uncompressed_bytes=max_uncompressed_bytes)[0]


def read_workbooks(
    paths: Iterable[Path],
    *,
    layout: Layout | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> list[ParsedWorkbook]:
    """Read district workbooks, one `ParsedWorkbook` per path in the same order (see `read_workbook`).

    Each file is read in turn as `read_workbook` reads it (headers, rows, typed cells, totals,
    findings), and its cells and bytes are let go before the next one, whose cells then reuse the same
    memory. Then each sheet's typed rows of all the files become one stacked frame, of which each
    workbook's table is a view (`Tables`, `stack_tables`): one frame per sheet for the batch instead of
    one per file, and the frame validation and loading use as it is. The results are those of reading
    each file alone (a test compares them). Memory: one file's cells at a time, and the batch's typed
    rows.
    """
    # a file is read with the layout of the version its ThongTin names (`_VersionChoice`); a layout given is
    # the only one
    layouts = {layout.template_version: layout} if layout is not None else template_versions().layouts
    with _collection_paused():
        return _read_workbooks([Path(path) for path in paths], layouts, max_file_bytes, max_uncompressed_bytes)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Automatic garbage collection off while reading (on again after, if it was on).

    Reading allocates many small containers (rows, cells, dicts), and each time they pass the
    collector's threshold it walks every tracked object of the process: in a worker with a large heap
    that costs more than the reading. The reader makes no reference cycles (grids refer to nothing
    that refers back; a test checks that reading leaves no cyclic garbage), so what it allocates is
    freed by reference counting alone and nothing waits for a collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_workbooks(
    paths: list[Path], layouts: dict[str, Layout], max_file_bytes: int, max_uncompressed_bytes: int
) -> list[ParsedWorkbook]:
    limits = (max_file_bytes, max_uncompressed_bytes)
    results: list[ParsedWorkbook] = []
    readers: list[_TableReader] = []
    for path in paths:
        result, tables = _read_one(path, layouts, *limits)
        results.append(result)
        readers.extend(tables)
    try:
        _stack_tables(readers)
    except Exception as exc:
        if len(paths) > 1:
            # Stacking the batch failed: each file again alone, so that only the file that fails gets
            # the verdict, and the others read as they would alone.
            return [_read_workbooks([path], layouts, *limits)[0] for path in paths]
        return [_unreadable_exception(paths[0], exc)]
    return results


class _OtherVersion(Exception):  # noqa: N818 - a signal, not an error
    """The file is of another accepted template version than the layout it is being read with."""

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout.template_version)
        self.layout = layout


class _VersionChoice:
    """Which accepted layout a file is read with: the current version's first (so a file of the current version
    is read once, as before versions were chosen), then the one its ThongTin names (`Phiên bản biểu mẫu`).
    When no version is read (ThongTin or its version cell renamed in another version), each other accepted
    layout is tried in turn, and if none reads a version, the current one (`missing_value` is then reported).
    A version not accepted is read with the current layout, and rejected (`wrong_template_version`)."""

    def __init__(self, layouts: dict[str, Layout]) -> None:
        self.layouts = layouts
        self.layout = next(iter(layouts.values()))
        self._untried = list(layouts.values())[1:]
        self._final = len(layouts) == 1

    def check(self, version: Any) -> None:
        """Raises `_OtherVersion` when the file is to be read again with another layout."""
        if self._final:
            return
        chosen = self.layouts.get(version) if isinstance(version, str) else None
        if chosen is None and version is None and self._untried:
            chosen = self._untried.pop(0)
        elif chosen is None:
            chosen = next(iter(self.layouts.values())) if version is None else self.layout
            self._final = True
        else:
            self._final = True
        if chosen is not self.layout:
            self.layout = chosen
            raise _OtherVersion(chosen)


def _read_one(
    path: Path, layouts: dict[str, Layout], max_file_bytes: int, max_uncompressed_bytes: int
) -> tuple[ParsedWorkbook, list[_TableReader]]:
    """One file read (its findings complete), with its table readers for `_stack_tables`."""
    try:
        source = _open_source(path, max_file_bytes, max_uncompressed_bytes)
        one_by_one = False
        version = _VersionChoice(layouts)
        while True:
            result = ParsedWorkbook(file_name=path.name)
            reader = _WorkbookReader(source, version.layout, result, version.check)
            try:
                tables = reader.read(one_by_one=one_by_one)
            except _OtherVersion:
                continue
            except Exception:
                if one_by_one:
                    raise
                # A broken part: read again one sheet after the other, so that the failure reported is
                # the first one met reading the sheets in turn, whatever the batched read met first.
                one_by_one = True
                continue
            # A formula saved without its value reads as an empty cell: where a template cell was empty,
            # the sheet's XML says whether it holds such a formula, and if one does the workbook is read
            # again with those cells as formula errors (reported, never read as 0). The XML is opened only
            # for sheets with such an empty cell, and a file is read twice only when it has such formulas.
            suspects = reader.suspect_sheets
            if (not suspects or not isinstance(source, _XlsxSource) or source.unvalued
                    or not source.find_unvalued(sorted(suspects))):
                return result, tables
    except _FileProblem as problem:
        return _unreadable(path, problem.rule, problem.message), []
    except Exception as exc:  # a malformed file can fail deep inside the xlsx/zip/csv libraries
        return _unreadable_exception(path, exc), []


# What a district is told of a file the libraries cannot read. Their own words (`BadZipFile: File is not a zip
# file`, `CalamineError: ... Worksheet 'ThongTin' not found`) are English and name no remedy: they go to the log.
BROKEN_FILE = ("Tệp không đọc được: tệp bị hỏng hoặc không đầy đủ (có thể tệp chưa được tải lên hết). Hãy mở "
               "tệp bằng Excel, lưu lại dưới dạng Excel Workbook (.xlsx) rồi gửi lại.")


def _unreadable_exception(path: Path, exc: Exception) -> ParsedWorkbook:
    log.warning("unreadable workbook %s (%s)", path, _short(exc), exc_info=True)
    return _unreadable(path, "unreadable_file", BROKEN_FILE)


def _unreadable(path: Path, rule: str, message: str) -> ParsedWorkbook:
    return ParsedWorkbook(file_name=path.name, findings=[Finding("error", rule, message)])


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:197] + "..."


# ---------------------------------------------------------------- sources: xlsx and zip of CSVs


class Grid:
    """One sheet as text cells: `columns[c][r]` is the cell at row r (0 = Excel row 1), or None.

    Column c is the Excel column `col_offset + c`. `errors` maps (r, c) to a formula error literal.
    `flat` holds the cells of every sheet of the workbook as one Arrow string array, sheet after
    sheet and column after column: cell (r, c) of this sheet is at `base + c * height + r`. The count
    cells of the data rows of all sheets are typed from it in one go. `hidden_columns` and
    `number_rows` are computed only when called.
    """

    def __init__(
        self,
        name: str,
        *,
        columns: list[list[str | None]],
        errors: dict[tuple[int, int], str],
        col_offset: int | Callable[[], int] = 0,
        hidden_columns: Callable[[], frozenset[int]] = frozenset,
        hidden_rows: Callable[[], frozenset[int]] = frozenset,
        number_rows: Callable[[int], frozenset[int]] = lambda c: frozenset(),
    ) -> None:
        self.name = name
        self.columns = columns
        self.errors = errors
        self._col_offset = col_offset
        self.hidden_columns = hidden_columns
        self.hidden_rows = hidden_rows
        self.number_rows = number_rows
        self.width = len(columns)
        self.height = len(columns[0]) if columns else 0
        self.flat: pa.Array | None = None  # set by `_share_cells`
        self.base = 0
        self._rows: dict[int, tuple[str | None, ...]] = {}

    @cached_property
    def rows(self) -> list[tuple[str | None, ...]]:
        return list(zip(*self.columns, strict=True))

    def row(self, r: int) -> tuple[str | None, ...]:
        row = self._rows.get(r)
        if row is None:
            row = self._rows[r] = tuple([column[r] for column in self.columns])
        return row

    @cached_property
    def col_offset(self) -> int:
        """The Excel column (0-based) of grid column 0 (asked of fastexcel only when needed)."""
        return self._col_offset if isinstance(self._col_offset, int) else self._col_offset()

    def letter(self, c: int) -> str:
        return column_letter(self.col_offset + c)


def column_letter(index: int) -> str:
    """Excel column letters of a 0-based column index (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _open_source(path: Path, max_file_bytes: int, max_uncompressed_bytes: int) -> _XlsxSource | _CsvZipSource:
    try:
        # The file is opened once: its checks and its zip listing come from the bytes read here, and
        # fastexcel reads the workbook from them (opening the file again cost 30 us per workbook).
        with open(path, "rb", buffering=0) as f:  # two reads: no buffer object needed
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            whole = size <= max_file_bytes and (head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC))
            data = head + f.read(size - len(head)) if whole else head  # read(n) would allocate n bytes first
    except OSError as exc:
        failure = _stat_failure(path) or exc
        raise _FileProblem("unreadable_file", f"Tệp không đọc được: không mở được tệp ({_short(failure)}).") from exc
    if size > max_file_bytes:
        raise _FileProblem(
            "file_too_large", f"Tệp quá lớn: {size:,} byte, vượt giới hạn {max_file_bytes:,} byte.".replace(",", ".")
        )
    if size == 0:
        raise _FileProblem("unreadable_file", "Tệp không đọc được: tệp rỗng.")
    if head.startswith(_OLE_MAGIC):
        raise _FileProblem(
            "unreadable_file",
            "Tệp không đọc được: tệp được đặt mật khẩu hoặc là định dạng Excel cũ (.xls). "
            "Hãy bỏ mật khẩu và lưu lại dưới dạng Excel Workbook (.xlsx).",
        )
    if not (head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC)):
        what = " (đây là tệp PDF: bản có chữ ký không thay được tệp số liệu)" if head.startswith(b"%PDF") else ""
        raise _FileProblem(
            "unreadable_file",
            f"Tệp không đọc được: không phải tệp Excel (.xlsx) hay tệp .zip chứa các tệp CSV của biểu mẫu{what}. "
            f"Hãy gửi số liệu bằng tệp Excel (.xlsx) theo biểu mẫu.",
        )
    listing = _plain_zip_listing(data)
    if listing is not None and ("xl/workbook.xml" in listing[0] or "[Content_Types].xml" in listing[0]):
        _check_uncompressed(listing[1], max_uncompressed_bytes)
        _check_members(len(listing[0]))
        return _XlsxSource(path, data, listing[2])
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        log.warning("unreadable workbook %s (%s)", path, _short(exc))
        raise _FileProblem("unreadable_file", BROKEN_FILE) from exc
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        uncompressed = sum(m.file_size for m in members)
    _check_uncompressed(uncompressed, max_uncompressed_bytes)
    _check_members(len(members))
    if "xl/workbook.xml" in names or "[Content_Types].xml" in names:
        return _XlsxSource(path, data)
    csv_members = [m for m in members if m.filename.lower().endswith(".csv") and not m.is_dir()
                   and not _is_mac_metadata(m.filename)]
    if not csv_members:
        workbooks = [name for name in sorted(names) if name.lower().endswith((".xlsx", ".xlsm"))
                     and not _is_mac_metadata(name)]
        if workbooks:
            # a district zipped its workbook to send it: say which file to send instead
            raise _FileProblem("unreadable_file", f"Tệp không đọc được: tệp .zip chứa tệp Excel '{workbooks[0]}'. "
                                                  f"Hãy gửi thẳng tệp Excel đó, không nén vào tệp .zip.")
        if "content.xml" in names and "mimetype" in names:
            what = ("đây là tệp OpenDocument (LibreOffice Calc, .ods). Hãy lưu lại dưới dạng "
                    "'Excel 2007-365 (.xlsx)' rồi gửi lại")
        elif "word/document.xml" in names:
            what = "đây là tệp Word (.docx), không phải bảng tính. Hãy gửi số liệu bằng tệp Excel (.xlsx) theo biểu mẫu"
        else:
            what = "tệp .zip không chứa bảng tính Excel hay tệp CSV nào"
        raise _FileProblem("unreadable_file", f"Tệp không đọc được: {what}.")
    sheets = {id(m) for m in csv_members}
    return _CsvZipSource(
        path, csv_members, [m.filename for m in members if id(m) not in sheets], max_uncompressed_bytes
    )


def _is_mac_metadata(name: str) -> bool:
    """A zip member macOS adds beside every file it compresses (`__MACOSX/._TruongLop.csv`, a binary
    resource fork): never a sheet, whatever its name."""
    return name.startswith("__MACOSX/") or name.rpartition("/")[2].startswith("._")


def _stat_failure(path: Path) -> OSError | None:
    """Why the file's metadata cannot be read, if it cannot: that failure is reported before an opening's."""
    try:
        path.stat()
    except OSError as exc:
        return exc
    return None


def _check_uncompressed(uncompressed: int, limit: int) -> None:
    if uncompressed > limit:
        raise _FileProblem(
            "file_too_large",
            f"Tệp quá lớn khi giải nén: {uncompressed:,} byte, vượt giới hạn {limit:,} byte.".replace(",", "."),
        )


# A workbook is a few dozen parts (a few hundred with pictures), the CSV variant one file per sheet. Each
# member of a zip costs the reader a look (a CSV that is no sheet is reported as ignored): 60,000 empty
# entries, a 6 MB file, took 17 s, and the 20 MB a file may weigh hold 180,000.
MAX_ZIP_MEMBERS = 10_000


def _check_members(count: int) -> None:
    if count > MAX_ZIP_MEMBERS:
        raise _FileProblem(
            "file_too_large",
            f"Tệp quá lớn: tệp nén chứa {_thousands(count)} tệp, vượt giới hạn {_thousands(MAX_ZIP_MEMBERS)} tệp. "
            f"Chỉ gửi tệp Excel (.xlsx) của biểu mẫu, hoặc tệp .zip chỉ chứa các tệp CSV của biểu mẫu.",
        )


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record (zipfile.structEndArchive)
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # central directory entry (zipfile.structCentralDir)


class _Member(NamedTuple):
    """Where a member's bytes are in a plain zip (`_plain_zip_listing`)."""

    header_offset: int
    compressed_size: int
    size: int  # uncompressed, as the directory says
    method: int
    flags: int


def _plain_zip_listing(data: bytes) -> tuple[set[str], int, list[_Member]] | None:
    """Member names and total uncompressed size of a plain zip (the file's bytes), read from its central directory,
    and where its worksheet parts (`xl/worksheets/*.xml`, in any case) are.

    `zipfile.ZipFile` builds a ZipInfo per member and costs a tenth of reading a workbook. This reads
    the same records with `struct`, but only for the plain case that zipfile reads without complaint
    (end record at the very end without comment, no Zip64, no data before the archive, every entry
    whole and well formed) and gives the same names and sizes; anything else gives None, and the
    caller asks zipfile, whose errors are the ones reported.
    """
    size = len(data)
    if size < _EOCD.size + 20:
        return None
    tail = data[size - _EOCD.size - 20 :]
    signature, _, _, _, _, cd_size, cd_offset, comment = _EOCD.unpack_from(tail, 20)
    if signature != b"PK\x05\x06" or comment or tail[:4] == b"PK\x06\x07":  # comment, or Zip64 locator
        return None
    if cd_offset + cd_size != size - _EOCD.size:  # data before the archive or a bad offset
        return None
    data = data[cd_offset : cd_offset + cd_size]
    names: set[str] = set()
    uncompressed = 0
    worksheets: list[_Member] = []
    at = 0
    while at < cd_size:
        if cd_size - at < _CENTRAL.size:
            return None
        entry = _CENTRAL.unpack_from(data, at)
        name_len, extra_len, comment_len = entry[12], entry[13], entry[14]
        end = at + _CENTRAL.size + name_len + extra_len + comment_len
        if entry[0] != b"PK\x01\x02" or end > cd_size or entry[3] > zipfile.MAX_EXTRACT_VERSION:
            return None
        raw_name = data[at + _CENTRAL.size : at + _CENTRAL.size + name_len]
        extra = data[at + _CENTRAL.size + name_len : at + _CENTRAL.size + name_len + extra_len]
        while len(extra) >= 4:  # as ZipInfo._decodeExtra: a Zip64 or malformed field is left to zipfile
            kind, length = struct.unpack_from("<HH", extra)
            if kind == 1 or length + 4 > len(extra):
                return None
            extra = extra[length + 4 :]
        try:
            name = raw_name.decode("utf-8" if entry[5] & 0x800 else "cp437")
        except UnicodeDecodeError:
            return None
        name = name.split("\0", 1)[0]  # ZipInfo ends a name at its first null byte
        names.add(name)
        uncompressed += entry[11]
        if name[:14].casefold() == "xl/worksheets/" and name[-4:].casefold() == ".xml":
            worksheets.append(_Member(entry[18], entry[10], entry[11], entry[6], entry[5]))
        at = end
    return names, uncompressed, worksheets


class _XlsxSource:
    """An .xlsx read with fastexcel; the XML parts are opened only for hidden columns and cell types."""

    def __init__(self, path: Path, data: bytes, worksheets: list[_Member] | None = None) -> None:
        import fastexcel  # imported here so that the CSV path and the tests of pure functions stay light

        self.path = path
        self._data = data
        self._worksheets = worksheets  # where the worksheet parts are, for a plain zip (`_plain_zip_listing`)
        try:
            self._reader = fastexcel.read_excel(data)
        except Exception:
            # From memory, calamine says only "Cannot detect file format"; opened by path it tells
            # what is broken, which is what the finding reports.
            self._reader = fastexcel.read_excel(str(path))
        self.sheet_names: list[str] = list(self._reader.sheet_names)
        self.other_members: list[str] = []
        # sheet -> (row, absolute column) -> "=formula": formulas saved without a value, found by
        # `find_unvalued` and read as formula errors from then on
        self.unvalued: dict[str, dict[tuple[int, int], str]] = {}
        self._sheet_xml: dict[str, _SheetXml] = {}

    def hidden_sheets(self) -> frozenset[str]:
        """The sheets Excel does not show (hidden or very hidden), from xl/workbook.xml; none if unreadable
        (this only chooses between two copies of a sheet, never makes a file unreadable)."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        except _XML_FAILURES:
            return frozenset()
        return frozenset(sheet.get("name", "") for sheet in workbook.iter(f"{_NS_MAIN}sheet")
                         if sheet.get("state") in ("hidden", "veryHidden"))

    def sheet_xml(self, name: str) -> _SheetXml:
        """The sheet's XML part, read once (on first use) for the source's life."""
        if name not in self._sheet_xml:
            self._sheet_xml[name] = _SheetXml(self.path, name)
        return self._sheet_xml[name]

    def xml_fact(self, name: str, fact: Callable[[_SheetXml], T], default: T) -> T:
        """A fact read from a sheet's XML part (`_SheetXml`); `default` when the part cannot be found or read
        (calamine read the sheet another way): these facts only add findings, never make a file unreadable."""
        try:
            return fact(self.sheet_xml(name))
        except _XML_FAILURES:
            log.warning("no XML part read for sheet %r of %s", name, self.path, exc_info=True)
            return default

    def find_unvalued(self, names: Iterable[str]) -> bool:
        """Look in these sheets' XML for formulas saved without a value; whether there are some."""
        for name in names:
            found = self.xml_fact(name, _SheetXml.unvalued_formulas, {})
            if found:
                self.unvalued[name] = found
        return bool(self.unvalued)

    def load_all(self, names: list[str]) -> list[Grid]:
        """The sheets, their cells turned into Python values by one conversion for the whole workbook."""
        self._check_extents(names)
        loaded = []
        for name in names:
            sheet = self._reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            batch, cell_errors = sheet.to_arrow_with_errors()
            errors: dict[tuple[int, int], str] = {}
            for error in cell_errors.errors if cell_errors else ():
                match = re.search(r"Error\((\w+)\)", error.detail)
                errors[tuple(error.position)] = _CALAMINE_ERRORS.get(match[1], "#ERROR") if match else "#ERROR"
            loaded.append((name, batch, errors, sheet))
        arrays = [array for _, batch, _, _ in loaded for array in batch.columns]
        flat = _concat_text(arrays)  # None if not all text (never seen with dtypes="string")
        if flat is None:
            cells = [_no_nul(cell) for array in arrays for cell in array.to_pylist()]
        else:
            if _may_hold(flat, b"\x00"):
                flat = pc.replace_substring(flat, "\x00", "")
            cells = flat.to_pylist()
        literals = flat is None or _may_hold(flat, b"#")  # error literals typed as text: rare
        grids = []
        start = 0
        for name, batch, errors, sheet in loaded:
            height = batch.num_rows
            columns = [cells[start + c * height : start + (c + 1) * height] for c in range(batch.num_columns)]
            start += batch.num_columns * height
            if literals:
                _move_error_literals(columns, errors)
            grids.append(self._grid(name, columns, errors, sheet))
        _share_cells(grids, flat)
        return grids

    def _check_extents(self, names: list[str]) -> None:
        """Refuse a sheet whose cells span more than MAX_SHEET_CELLS, before calamine reads it.

        calamine makes a sheet one dense block from its first cell to its last: one cell at J1048576, a stray
        character at the bottom of the sheet, took 25 s and 1.5 GB, and one at A2000000000 (no Excel cell, but
        a 2 KB file can say it) made it ask for 1.6 TB, which kills the process at once (a Rust allocation
        failure is no exception), and with it the night, every night, the file staying `received`. The sheets'
        XML is read here (kept for the reader's other looks into it); a sheet is placed cell by cell only when
        it is suspect (`_suspect_part`)."""
        if self._worksheets is not None and _plain_parts_unsuspect(self._data, self._worksheets):
            return  # the common case: every reference near, on every cell (one pass of one pattern a part)
        pending = [name for name in names if name not in self._sheet_xml]
        if pending:
            try:
                with zipfile.ZipFile(io.BytesIO(self._data)) as archive:
                    parts = _sheet_parts(archive, pending)
                    for name in pending:
                        self._sheet_xml[name] = _SheetXml(self.path, name, archive.read(parts[name]))
            except _XML_FAILURES:
                # our strict parse of the workbook's XML failed where calamine's lenient one may not: every
                # XML part of the zip is looked at instead (rare, so its cost does not matter)
                self._check_every_part()
                return
        for name in names:
            xml = self._sheet_xml[name]
            if _suspect_part(xml._xml):
                _check_extent(name, xml)

    def _check_every_part(self) -> None:
        with zipfile.ZipFile(io.BytesIO(self._data)) as archive:
            for member in archive.namelist():
                if member.lower().endswith(".xml"):
                    try:
                        xml = archive.read(member)
                    except _XML_FAILURES:
                        continue
                    if _suspect_part(xml):  # a part that is no worksheet has no cells: nothing to refuse
                        _check_extent(member, _SheetXml(self.path, member, xml))

    def _grid(self, name: str, columns: list[list[str | None]], errors: dict, sheet: Any) -> Grid:
        parts = self.sheet_xml(name)
        offset = _ColumnOffset(sheet if columns else None)
        height = len(columns[0]) if columns else 0
        for (r, absolute), formula in self.unvalued.get(name, {}).items():
            c = absolute - offset()
            if 0 <= r < height and 0 <= c < len(columns) and columns[c][r] in (None, ""):
                errors[(r, c)] = formula
        # The callables must not refer to the grid: a grid in a reference cycle (with its cells) would
        # live until the next garbage collection, and those collections cost as much as the reading.
        return Grid(
            name,
            columns=columns,
            errors=errors,
            col_offset=offset,
            hidden_columns=lambda: frozenset(c - offset() for c in parts.hidden_columns()),
            # grid rows are the sheet's rows (row 0 is Excel row 1); none hidden if the XML cannot be read
            hidden_rows=lambda: self.xml_fact(name, _SheetXml.hidden_rows, frozenset()),
            number_rows=lambda c: parts.number_rows(c + offset()),
        )


class _ColumnOffset:
    """The Excel column (0-based) of a loaded sheet's first column, asked of fastexcel on first use."""

    def __init__(self, sheet: Any) -> None:
        self._sheet = sheet  # None: an empty sheet, offset 0
        self._offset: int | None = None

    def __call__(self) -> int:
        if self._offset is None:
            infos = self._sheet.available_columns() if self._sheet is not None else []
            self._offset = infos[0].absolute_index if infos else 0
        return self._offset


def _concat_text(arrays: list[pa.Array]) -> pa.Array | None:
    """The arrays as one string array, or None when some are not text."""
    try:
        flat = pa.concat_arrays(arrays) if arrays else None
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all of one type
        return None
    return flat if flat is not None and flat.type == pa.string() else None


def _share_cells(grids: list[Grid], flat: pa.Array | None) -> None:
    """Give every grid the workbook's cells as one Arrow array (built from the Python cells if None)."""
    if flat is None:
        cells = [cell for grid in grids for column in grid.columns for cell in column]
        flat = pa.array(cells, pa.string())
    base = 0
    for grid in grids:
        grid.flat, grid.base = flat, base
        base += grid.width * grid.height


def _no_nul(cell: Any) -> Any:
    """A cell without NUL characters. Excel writes one as `_x0000_` and calamine gives it back; nobody sees it,
    PostgreSQL cannot store it (COPY fails, and with it the whole chunk's transaction, every night)."""
    return cell.replace("\x00", "") if isinstance(cell, str) and "\x00" in cell else cell


def _may_hold(cells: pa.Array, text: bytes) -> bool:
    """Whether some cell of a string array may contain `text`: one search of its character buffer."""
    buffers = cells.buffers()
    if len(buffers) != 3:
        return True
    return buffers[2] is not None and text in memoryview(buffers[2]).tobytes()


def _move_error_literals(columns: list[list[str | None]], errors: dict[tuple[int, int], str]) -> None:
    """Error literals typed or exported as text (`#REF!` in a CSV) are formula errors too."""
    for c, column in enumerate(columns):
        if "#" not in "\x00".join(filter(None, column)):  # one C-level pass per column: most have none
            continue
        for r, cell in enumerate(column):
            if cell is not None and cell[:1] == "#" and cell.strip().upper() in _FORMULA_ERRORS:
                errors[(r, c)] = cell.strip().upper()
                column[r] = None


# A sheet's cells span at most this many cells, first to last (a district's largest table is a few hundred
# schools by 25 columns; Excel's last cell, XFD1048576, is 17 billion cells from A1).
MAX_SHEET_CELLS = 5_000_000
# A cell whose reference, first, is not a near one (column A to AZ, row 1 to 9999: 520,000 cells at most): a far
# cell, one without a reference, or one written otherwise. One pattern whose literal start (`<c`) stops only at
# cells, and one look ahead a cell, so that an ordinary workbook is cleared in one pass a part.
_SUSPECT_CELL = re.compile(rb'<c(?! r="A?[A-Z]\d{1,4}")[\s>/]')
_LOCAL = struct.Struct("<4s22x2H")  # a member's local header: signature, then its name's and extra field's lengths


def _plain_parts_unsuspect(data: bytes, worksheets: list[_Member]) -> bool:
    """Whether every worksheet part of a plain zip is inflated without trouble and holds no cell that
    `_SUSPECT_CELL` finds, in a document without a namespace prefix. Anything else (False) is looked at sheet by
    sheet (`_check_extents`); inflating with zlib straight from the file's bytes costs a third of zipfile's."""
    for member in worksheets:
        if member.flags & 1 or member.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return False  # encrypted, or another compression: zipfile says what it is
        if len(data) < member.header_offset + _LOCAL.size:
            return False
        signature, name_length, extra_length = _LOCAL.unpack_from(data, member.header_offset)
        start = member.header_offset + _LOCAL.size + name_length + extra_length
        raw = data[start : start + member.compressed_size]
        if signature != b"PK\x03\x04" or len(raw) != member.compressed_size:
            return False
        if member.method == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
            try:  # no more than the directory says: a part inflating beyond it is a bomb zipfile would refuse
                xml = inflater.decompress(raw, member.size + 1)
            except zlib.error:
                return False
            if len(xml) != member.size or inflater.unconsumed_tail:
                return False
        else:
            xml = raw
        if _suspect_part(xml):
            return False
    return True


def _suspect_part(xml: bytes) -> bool:
    """Whether a worksheet part may span more than MAX_SHEET_CELLS: a cell `_SUSPECT_CELL` finds (far, without a
    reference, or written otherwise), or a document with a namespace prefix (`<x:worksheet>`: its cells are
    `<x:c`, which the pattern does not see). Such a part is placed cell by cell (`_check_extent`)."""
    return b"<worksheet" not in xml[:4096] or _SUSPECT_CELL.search(xml) is not None


def _check_extent(sheet: str, xml: _SheetXml) -> None:
    cells = xml._cells[1]
    if not cells:
        return
    rows = [r for r, _, _ in cells]
    columns = [c for _, c, _ in cells]
    first_row, last_row, first_column, last_column = min(rows), max(rows), min(columns), max(columns)
    if (last_row - first_row + 1) * (last_column - first_column + 1) > MAX_SHEET_CELLS:
        far = max(cells, key=lambda cell: (cell[0] - first_row + 1) * (cell[1] - first_column + 1))
        raise _FileProblem(
            "file_too_large",
            f"Tệp quá lớn: trang tính '{sheet}' có ô {column_letter(far[1])}{far[0] + 1}, cách quá xa bảng số liệu "
            f"(vùng dữ liệu từ {column_letter(first_column)}{first_row + 1} đến "
            f"{column_letter(last_column)}{last_row + 1}). Hãy xoá các ô thừa ở cuối trang tính (chọn các dòng, "
            f"cột trống bên dưới và bên phải bảng, bấm Delete) rồi lưu và gửi lại.",
        )


class _SheetXml:
    """Facts calamine does not give, read from one worksheet's XML part on first use."""

    def __init__(self, path: Path, sheet_name: str, xml: bytes | None = None) -> None:
        self.path = path
        self.sheet_name = sheet_name
        if xml is not None:
            self.__dict__["_xml"] = xml  # read already (`_XlsxSource._check_extents`)

    @cached_property
    def _xml(self) -> bytes:
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(_sheet_part(archive, self.sheet_name))

    def hidden_columns(self) -> frozenset[int]:
        """0-based absolute indices of the columns marked hidden (or of zero width)."""
        cols = re.search(rb"<(?:\w+:)?cols>(.*?)</(?:\w+:)?cols>", self._xml, re.S)
        hidden: set[int] = set()
        for attrs in re.findall(rb"<(?:\w+:)?col\b([^>]*)>", cols[1] if cols else b""):
            values = dict(re.findall(rb'(\w+)="([^"]*)"', attrs))
            if values.get(b"hidden") in (b"1", b"true") or values.get(b"width") in (b"0", b"0.0"):
                first, last = int(values.get(b"min", b"1")), int(values.get(b"max", b"1"))
                hidden.update(range(first - 1, min(last, first + 512)))  # a range to XFD is not a real column
        return frozenset(hidden)

    def hidden_rows(self) -> frozenset[int]:
        """0-based indices of the rows marked hidden (placed as `_cells` places them)."""
        return self._cells[2]

    def number_rows(self, column: int) -> frozenset[int]:
        """0-based rows whose cell in this absolute column is stored as a number (no `t`, or `t="n"`)."""
        rows: set[int] = set()
        for r, c, attrs in self._cells[1]:
            if c == column:
                kind = re.search(rb'\bt="(\w+)"', attrs)
                if kind is None or kind[1] == b"n":
                    rows.add(r)
        return frozenset(rows)

    @cached_property
    def _cells(self) -> tuple[list[int], list[tuple[int, int, bytes]], frozenset[int]]:
        """Where each cell's tag starts in the XML, each cell's (0-based row, absolute column, attributes), and
        the 0-based rows marked hidden.

        A cell's position is its reference (`r="E3"`). The format lets a writer leave references out, and
        some do: a cell is then in the column after the cell before it, in the row after the row before."""
        starts: list[int] = []
        cells: list[tuple[int, int, bytes]] = []
        hidden: set[int] = set()
        row, column = -1, -1
        for tag in _ROW_OR_CELL.finditer(self._xml):
            attrs = tag[2]
            if tag[1] == b"row":
                number = re.search(rb'\br="(\d+)"', attrs)
                row, column = (int(number[1]) - 1 if number else row + 1), -1
                if _HIDDEN.search(attrs):
                    hidden.add(row)
                continue
            ref = _CELL_REF.search(attrs)
            if ref:
                row, column = int(ref[2]) - 1, _column_index(ref[1].decode())
            else:
                column += 1
            starts.append(tag.start())
            cells.append((row, column, attrs))
        return starts, cells, frozenset(hidden)

    def _cell_at(self, offset: int) -> tuple[int, int] | None:
        """(row, column) of the cell whose tag is the last one starting before this offset of the XML."""
        starts, cells, _ = self._cells
        i = bisect.bisect_right(starts, offset) - 1
        return cells[i][:2] if i >= 0 else None

    def merged_ranges(self) -> list[tuple[int, int, int, int]]:
        """0-based (first row, first absolute column, last row, last column) of every merged range."""
        ranges = []
        for ref in re.findall(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', self._xml):
            first, last = _column_index(ref[0].decode()), _column_index(ref[2].decode())
            ranges.append((int(ref[1]) - 1, first, int(ref[3]) - 1, last))
        return ranges

    def unvalued_formulas(self) -> dict[tuple[int, int], str]:
        """0-based (row, absolute column) of every formula cell saved without its value, with the formula's
        text: calamine reads such a cell as empty, which would make a count 0 (files written by programs
        that do not calculate, openpyxl among them; Excel and LibreOffice always save the values)."""
        xml = self._xml
        found: dict[tuple[int, int], str] = {}
        for end in _FORMULA_WITHOUT_VALUE.finditer(xml):
            start = max(xml.rfind(b"<c ", 0, end.start()), xml.rfind(b":c ", 0, end.start()))
            cell = xml[start : end.end()]
            if end[1] is not None and _TEXT_TYPE.search(cell[: cell.find(b">")]):
                continue  # a text formula's empty value element is its value: the empty text
            ref = _CELL_REF.search(cell)
            formula = re.search(rb"<(?:\w+:)?f\b[^>]*>(.*?)</(?:\w+:)?f>", cell, re.S)
            position = (int(ref[2]) - 1, _column_index(ref[1].decode())) if ref else self._cell_at(end.start())
            if position is None:
                continue
            text = html.unescape(formula[1].decode("utf-8", "replace")) if formula else ""
            found[position] = "=" + text
        return found


_ROW_OR_CELL = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*)>")  # a row's or a cell's start tag (not `<col>`, `<cfRule>`)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')

# A formula element (or a shared formula's reference, `<f .../>`) followed by the end of its cell, with no
# value or an empty one in between (`<v/>` and `<v></v>` are the same XML; writers use both). A formula whose
# result is the empty text keeps its value element in a text cell (`t="str"`): that is a value, the empty
# text, told by the cell's type (group 1 is the empty value element, if any). In a number cell an empty value
# is no number: calamine reads it as an empty cell, which a count would take as 0.
_FORMULA_WITHOUT_VALUE = re.compile(
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)\s*(<(?:\w+:)?v\s*/>|<(?:\w+:)?v\b[^>]*>\s*</(?:\w+:)?v>)?\s*"
    rb"</(?:\w+:)?c>"
)
_TEXT_TYPE = re.compile(rb'\bt="(?:str|inlineStr)"')


def _column_index(letters: str) -> int:
    """0-based index of Excel column letters (A -> 0, AB -> 27)."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# what reading a part of the workbook's zip can raise (a part missing, a broken zip, malformed XML)
_XML_FAILURES = (KeyError, OSError, EOFError, zipfile.BadZipFile, zlib.error, ElementTree.ParseError)


def _sheet_part(archive: zipfile.ZipFile, sheet_name: str) -> str:
    """The zip member holding a worksheet, from xl/workbook.xml and its relationships."""
    return _sheet_parts(archive, [sheet_name])[sheet_name]


def _sheet_parts(archive: zipfile.ZipFile, sheet_names: list[str]) -> dict[str, str]:
    """The zip members holding these worksheets, from xl/workbook.xml and its relationships (read once)."""
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    workbook = ElementTree.fromstring(archive.read(_member(archive, "xl/workbook.xml")))
    rels = ElementTree.fromstring(archive.read(_member(archive, "xl/_rels/workbook.xml.rels")))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts: dict[str, str] = {}
    for sheet in workbook.iter(f"{_NS_MAIN}sheet"):
        name = sheet.get("name")
        if name in sheet_names and name not in parts:
            target = targets.get(sheet.get(f"{ns_rel}id"), "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            parts[name] = _member(archive, part)
    missing = [name for name in sheet_names if name not in parts]
    if missing:
        raise KeyError(missing[0])
    return parts


def _member(archive: zipfile.ZipFile, part: str) -> str:
    """The zip member of a part name. Part names are case-insensitive (ECMA-376 part 2, 9.1.1.1) and Excel
    and calamine open a relationship to `Worksheets/Sheet1.xml` stored as `xl/worksheets/sheet1.xml`; a zip's
    names are not, and a lookup by the exact name made such a file unreadable, or its formulas unchecked."""
    if part in archive.NameToInfo:
        return part
    folded = part.casefold()
    for name in archive.namelist():
        if name.casefold() == folded:
            return name
    raise KeyError(part)


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's name as its maker wrote it. A zip marks UTF-8 names with a flag; without it zipfile reads
    the bytes as cp437, but Windows' "Compressed folder", Info-ZIP and old macOS store Vietnamese names
    unmarked, in UTF-8 or in the Windows code page (cp1258): `Thông tin.csv` came out as `Th├┤ng tin.csv`,
    a sheet no template name took. Unmarked names are decoded as UTF-8 first, then cp1258."""
    if member.flag_bits & 0x800 or member.filename.isascii():
        return member.filename
    raw = member.filename.encode("cp437")
    for encoding in ("utf-8", "cp1258"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return member.filename


class _CsvZipSource:
    """The CSV variant: one UTF-8 CSV per sheet, named `<SheetName>.csv`, inside a zip."""

    def __init__(self, path: Path, members: list[zipfile.ZipInfo], other_members: list[str], limit: int) -> None:
        self.path = path
        # A sheet is named by its file's name; two CSVs of one name in different folders are named by their
        # paths (`moi/TruongLop`), so that both are seen and reported as one sheet twice, not one of them
        # silently replaced by the other (`_WorkbookReader._match_sheets` matches the name after the last `/`).
        names = [_member_name(m) for m in members]
        stems = Counter(Path(name).stem for name in names)
        self._members: dict[str, zipfile.ZipInfo] = {}
        for m, written in zip(members, names, strict=True):
            name = Path(written).stem if stems[Path(written).stem] == 1 else written[:-4]
            while name in self._members:  # the same path twice in the zip: a copy
                name += " (2)"
            self._members[name] = m
        self.sheet_names = list(self._members)
        self.other_members = [m for m in other_members if not m.endswith("/")]
        self._limit = limit
        self._rows: dict[str, tuple[list[list[str]], str]] = {}
        self._style: str | None = None  # `_number_style`: "" once looked at and undecided

    def hidden_sheets(self) -> frozenset[str]:
        return frozenset()  # a CSV hides nothing

    def _parsed(self, name: str) -> tuple[list[list[str]], str]:
        """A member's rows and delimiter, read once (`_number_style` looks at every member)."""
        if name not in self._rows:
            self._rows[name] = self._parse(name)
        return self._rows[name]

    def _parse(self, name: str) -> tuple[list[list[str]], str]:
        with zipfile.ZipFile(self.path) as archive, archive.open(self._members[name]) as f:
            data = f.read(self._limit + 1)  # bounded even if the zip headers lie about sizes
        if len(data) > self._limit:
            raise _FileProblem("file_too_large", "Tệp quá lớn khi giải nén: vượt giới hạn cho phép.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _FileProblem(
                "unreadable_file",
                f"Tệp không đọc được: {self._members[name].filename} không phải văn bản UTF-8 (tiếng Việt sẽ bị "
                f"lỗi phông). Hãy xuất lại từ Excel bằng kiểu 'CSV UTF-8 (Comma delimited)', hoặc gửi tệp .xlsx.",
            ) from exc
        return _csv_rows(_no_nul(text))

    def _number_style(self) -> str | None:
        """How the numbers of the zip's `,` and tab separated CSVs are written, from the cells only one
        style can have written: "en" (`12.5`, `1,234`: a machine, or Excel under English settings, where the
        comma groups thousands), "vi" (`12,5`, `1.250,5`: LibreOffice under Vietnamese settings saves cells
        as shown, with whatever delimiter is chosen), or None when no cell tells or cells tell both."""
        if self._style is None:
            found: set[str] = set()
            for name in self._members:
                try:
                    rows, delimiter = self._parsed(name)
                except _FileProblem:
                    continue  # reported when the sheet is read
                if delimiter != ";":
                    found.update(_number_evidence(cell) for row in rows for cell in row if cell[:1].isdigit())
            found.discard("")
            self._style = found.pop() if len(found) == 1 else ""
        return self._style or None

    def load(self, name: str) -> Grid:
        rows, delimiter = self._parsed(name)
        del self._rows[name]  # the grid holds the cells from here on
        width = max((len(r) for r in rows), default=0)
        if width * len(rows) > MAX_SHEET_CELLS:
            # the grid is as wide as the longest line: one line of 100,000 fields over 100,000 short lines is
            # 10 billion cells from a file of 300 KB, and the worker is killed for its memory
            widest = next(r for r, row in enumerate(rows) if len(row) == width)
            raise _FileProblem(
                "file_too_large",
                f"Tệp quá lớn: {self._members[name].filename} có dòng {widest + 1} gồm {_thousands(width)} cột, "
                f"quá xa bảng số liệu ({_thousands(len(rows))} dòng). Hãy xoá các ô thừa ở cuối các dòng rồi "
                f"xuất lại tệp CSV.",
            )
        # A `;` separated CSV is what Excel writes where the comma is the decimal separator (Vietnamese
        # settings): its cells are text, read as typed (`1.234` is one thousand two hundred and thirty-four).
        # Another delimiter is a machine's or Excel's under English settings, unless its cells say otherwise.
        style = "vi" if delimiter == ";" else self._number_style() or "machine"
        columns: list[list[str | None]] = [[None] * len(rows) for _ in range(width)]
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                columns[c][r] = _csv_cell(cell, style)
        errors: dict[tuple[int, int], str] = {}
        _move_error_literals(columns, errors)

        def number_rows(c: int) -> frozenset[int]:
            # A plain `12.5` of a machine's or an English export is a number as an Excel cell would be.
            if style == "vi":
                return frozenset()
            return frozenset(r for r, cell in enumerate(columns[c]) if cell and _MACHINE_NUMBER.fullmatch(cell))

        return Grid(name, columns=columns, errors=errors, number_rows=number_rows)

    def load_all(self, names: list[str]) -> list[Grid]:
        grids = [self.load(name) for name in names]
        _share_cells(grids, None)
        return grids


# What exporters write for an empty cell: pandas (`NaN`, `<NA>`, `None`, `NaT`), R (`NA`), SQL clients
# (`NULL`, `\N`). An empty cell it is, as Excel would have left it (a count 0, a code absent).
_CSV_NULLS = frozenset({"NULL", "null", "Null", "NaN", "nan", "NAN", "<NA>", "None", "NA", "NaT", "\\N"})
# Excel writes a TRUE/FALSE cell as the word; calamine reads the same cell of the workbook as 1/0.
_CSV_BOOLEANS = {"TRUE": "1", "True": "1", "true": "1", "FALSE": "0", "False": "0", "false": "0"}
_CSV_INTEGRAL = re.compile(r"(-?\d+)\.0{1,2}")  # pandas' `1.0` of a column holding an empty cell, SQL's `1.00`
_CSV_EN_GROUPS = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # `1,234`, `1,250.5`: English thousands
_CSV_SCIENTIFIC = re.compile(r"-?\d+(?:\.\d+)?[eE]\+?\d{1,2}")  # R writes 100000 as `1e+05`
# cells only one number style writes (`_CsvZipSource._number_style`)
_EN_ONLY = re.compile(r"\d+\.(?:\d{1,2}|\d{4,})|\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_VI_ONLY = re.compile(r"\d+,(?:\d{1,2}|\d{4,})|\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:\.\d{3}){2,}")


def _number_evidence(cell: str) -> str:
    if _EN_ONLY.fullmatch(cell):
        return "en"
    return "vi" if _VI_ONLY.fullmatch(cell) else ""


def _csv_cell(cell: str, style: str) -> str | None:
    """A CSV field as the grid holds it: what an exporter writes for an empty cell, a boolean or a
    whole number is written as Excel's cell would be read; a number of an English export loses its
    thousands commas (`1,234` is 1234 there, and `12,5` no English export writes)."""
    if cell == "" or cell in _CSV_NULLS:
        return None
    if not (cell[0].isdigit() or cell[0] in "-TtFf"):
        return cell
    if cell in _CSV_BOOLEANS:
        return _CSV_BOOLEANS[cell]
    if (integral := _CSV_INTEGRAL.fullmatch(cell)) is not None:
        return integral.group(1)
    if style == "vi":
        return cell
    if style == "en" and _CSV_EN_GROUPS.fullmatch(cell):
        cell = cell.replace(",", "")
        integral = _CSV_INTEGRAL.fullmatch(cell)
        return integral.group(1) if integral else cell
    if _CSV_SCIENTIFIC.fullmatch(cell):
        # R writes a whole number in this form only when it is shorter than its digits (`1e+05`), and then
        # exactly; Excel's `1.4118E+07` (a number shown in too narrow a column) lost digits and stays as written
        number = Decimal(cell)
        digits = str(int(number)) if number == number.to_integral_value() and abs(number) < 10**11 else ""
        if len(digits) > len(cell):
            return digits
    return cell


def _csv_rows(text: str) -> tuple[list[list[str]], str]:
    """The rows of a CSV, and its delimiter: a tab when the text holds more tabs than `;` and commas (a tab
    is never typed in a cell), else `;` when it holds more of them than commas. Counted over the whole text,
    not its first line: a `;` separated line may hold commas in its text (`huyện Quỳnh Nhai, tỉnh Sơn La`, a
    title), which Excel writes unquoted, while every line holds the delimiter."""
    semicolons, commas = text.count(";"), text.count(",")
    delimiter = "\t" if text.count("\t") > max(semicolons, commas) else ";" if semicolons > commas else ","
    rows = []
    cells = 0
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        cells += len(row)
        if cells > _MAX_CSV_CELLS:
            raise _FileProblem("file_too_large", "Tệp CSV quá lớn: quá nhiều ô.")
        rows.append(row)
    return rows, delimiter


# ---------------------------------------------------------------- label matching (per layout sheet)


class _Matcher:
    """Maps header texts of one sheet to template keys: by key, by label, then loosely.

    Tiers: normalised text, then without diacritics, then without spaces and punctuation; a loose
    form shared by two keys is dropped (it would be a guess). Results are memoised: the same labels
    come back in every district's file.
    """

    def __init__(self, spec: SheetSpec) -> None:
        self.spec = spec
        self.keys = {c.key for c in spec.columns}
        self.required = {c.key for c in spec.columns if c.required}
        self.columns = {c.key: c for c in spec.columns}  # `spec.column` without its linear search
        self._rows: dict[tuple[str | None, ...], dict[int, str]] = {}
        self._texts: dict[tuple[str | None, ...], dict[int, str]] = {}
        self._key_rows: dict[tuple[str | None, ...], bool] = {}
        self._tiers = _label_tiers(spec)
        self._ratio_marks = tuple(loose_label(mark) for mark in spec.ratio_marks)
        self._count_sublabels = frozenset(compact_label(label) for label in spec.count_sublabels)
        self._narrowing_notes = tuple(loose_label(note) for note in spec.narrowing_notes)
        self._memo: dict[str, str | None] = {}
        # Headers found in one label row under rows naming no column (titles), by that row and its
        # index: the same template gives the same label row in every district's file, and so the
        # same header and columns; the titles differ (they name the district) but only their having
        # no match counts.
        self._headers: dict[tuple[int, tuple[str | None, ...]], _Header] = {}
        self._header_rows: list[int] = []  # the indices of the label rows of the remembered headers

    def known_header(self, grid: Grid, search_rows: int) -> _Header | None:
        """The header found before in a sheet with this label row under rows naming nothing, or None."""
        for r in self._header_rows:
            if r < min(search_rows, grid.height):
                header = self._headers.get((r, grid.row(r)))
                if header is not None and not any(self.row(grid.row(above)) for above in range(r)):
                    return header
        return None

    def remember_header(self, rows: list[dict[int, str]], label_row: tuple[str | None, ...], header: _Header) -> None:
        """Remember the header `_find_header` found in the last of `rows` (the matches of the rows searched),
        when no row above it names a column (its data start is before any key row)."""
        r = len(rows) - 1
        if len(self._headers) >= 1_000 or header.first_row != r or any(rows[:r]):
            return
        header.plain_columns = _plain_columns(header, self.required)
        self._headers[(r, label_row)] = header
        if r not in self._header_rows:
            self._header_rows.append(r)

    def match(self, text: str | None) -> str | None:
        """The key a header text names, or None."""
        if text is None:
            return None
        if text in self._memo:
            return self._memo[text]
        key = None
        stripped = text.strip()
        if stripped and not stripped[0].isdigit():
            for tier, (token, (_, table)) in enumerate(zip(label_forms(stripped), self._tiers[:3], strict=False)):
                key = table.get(token)
                if key:
                    break
                if tier == 1:
                    loose = token  # the second form: without diacritics
        elif stripped:
            loose = loose_label(stripped)
        if key is None and stripped and may_be_dressed(loose) and not _looks_numeric(stripped):
            # the last tier: without an enumeration, a note in brackets, abbreviations (`bare_label`)
            key = self._tiers[3][1].get(bare_of_loose(loose))
            if key is not None and self._notes.get(key) and not self._notes_agree(loose, key):
                key = None  # `Kinh phí (nghìn đồng)` is not the column in `triệu đồng`: its amounts would be misread
            if key is not None and self._narrows(loose, key):
                key = None  # `Tổng số giáo viên (nữ)` is not `gv_tong`: female teachers would be read as all of them
        if key is not None and self._ratio_marks and names_a_ratio(loose_label(stripped), self._ratio_marks):
            # `Số trẻ mẫu giáo (%)`, `GV trong biên chế %`: the looser tiers drop the sign or the note, and the
            # percentages were read as the count. No template label holds a mark (a test checks).
            key = None
        if len(self._memo) < 50_000:
            self._memo[text] = key
        return key

    @cached_property
    def _notes(self) -> dict[str, list[str]]:
        """Key -> the notes in brackets of its labels (`trieu dong`, `0-2 tuoi`), for the keys that have some
        (made on first use: most files never need them)."""
        return {column.key: notes for column in self.spec.columns
                if (notes := [n for label in column.labels for n in trailing_notes(loose_label(label))])}

    def _narrows(self, loose: str, key: str) -> bool:
        """Whether a note in brackets after a text naming `key` once dropped names a part of its people, or another
        time or source (`narrowing_notes`: `nữ`, `KH`, `năm trước`), which the key's own labels do not say."""
        marks = self._narrowing_notes
        return bool(marks) and any(
            names_a_ratio(note, marks) and not any(names_a_ratio(own, marks) for own in self._notes.get(key, ()))
            for note in trailing_notes(loose))

    def _notes_agree(self, loose: str, key: str) -> bool:
        """Whether the notes in brackets after a text naming `key` once they are dropped (`bare_of_loose`) say
        what the notes of the key's labels say, or there are none (`note_agrees`)."""
        written = trailing_notes(loose)
        return not written or any(note_agrees(w, t) for w in written for t in self._notes[key])

    @cached_property
    def _vocabulary(self) -> tuple[dict[tuple[str, ...], tuple[str, ...]], int]:
        """The layout's words of a header over several rows (made on first use: a one-row header never needs them)."""
        return header_vocabulary(((t.term, t.spellings, t.implies) for t in self.spec.header_terms),
                                 self.spec.header_fillers)

    @cached_property
    def _of_which(self) -> tuple[str, ...]:
        return tuple(" ".join(loose_label(mark).split()) for mark in self.spec.header_of_which)

    @cached_property
    def _total_term(self) -> str | None:
        """The term the count sub-labels say (`Tổng số`: the total), which a part under it drops."""
        for label in self.spec.count_sublabels:
            terms = header_terms(label, self._vocabulary)
            if len(terms) == 1:
                return next(iter(terms))
        return None

    @cached_property
    def term_sets(self) -> dict[frozenset[str], tuple[str, ...]]:
        """The terms of every key, label and alias of the sheet -> the keys saying them (two or more: a clash,
        which names no column)."""
        table: dict[frozenset[str], tuple[str, ...]] = {}
        for column in self.spec.columns:
            for text in (column.key.replace("_", " "), *column.labels):
                terms = header_terms(text, self._vocabulary)
                if terms and column.key not in table.get(terms, ()):
                    table[terms] = (*table.get(terms, ()), column.key)
        return table

    def path_match(self, parts: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
        """The column a header written over several rows names, its labels from the top row down (`CBQL` ›
        `Biên chế`; a group label merged over the column included): `(key, ())`, or `(None, candidates)` when
        its words are those of two or more columns, or lie within two or more (`Trình độ` › `ĐH`, which
        CBQL and GV both have): never a guess. `(None, ())` when it names none.

        The words together as one label first (`Trình độ CBQL` › `dưới TC`), then as a set of terms in any order
        (`Giáo viên` › `Tổng số` is `Tổng số giáo viên`), then without a last sub-label that says "the count"
        (`GV trong biên chế` › `Số lượng`). A part naming a ratio names no column."""
        loose_parts = [loose_label(part) for part in parts]
        if self._ratio_marks and any(names_a_ratio(part, self._ratio_marks) for part in loose_parts):
            return None, ()
        key = self.match(" ".join(parts))
        if key is not None:
            return key, ()
        said: set[str] = set()
        for part, loose in zip(parts, loose_parts, strict=True):
            if said and any(f" {' '.join(loose.replace(':', ' ').split())} ".startswith(f" {mark} ")
                            for mark in self._of_which):
                said.discard(self._total_term)  # `Tổng số GV` › `Trong đó: biên chế`: a part of the total
            said |= header_terms(part, self._vocabulary)
        terms = frozenset(said)
        keys = self.term_sets.get(terms, ())
        if len(keys) == 1:
            return keys[0], ()
        if not keys and len(parts) > 1 and compact_label(parts[-1]) in self._count_sublabels:
            key, within = self.path_match(parts[:-1]) if len(parts) > 2 else (self.match(parts[0]), ())
            if key is not None and self.columns[key].type == "int":
                return key, ()
            if within:
                return None, within
        if not keys and terms:
            keys = tuple(dict.fromkeys(k for known, ks in self.term_sets.items() if terms < known for k in ks))
        return None, keys if len(keys) > 1 else ()

    def is_key(self, text: str | None) -> bool:
        return text is not None and text.strip() in self.keys

    def row(self, row: tuple[str | None, ...]) -> dict[int, str]:
        """Grid column -> key for the cells of a row that name a key (memoised: header rows repeat)."""
        matches = self._rows.get(row)
        if matches is None:
            matches = {c: key for c, cell in enumerate(row) if (key := self.match(cell))}
            if len(self._rows) < 10_000:
                self._rows[row] = matches
        return matches

    def texts(self, row: tuple[str | None, ...]) -> dict[int, str]:
        """Grid column -> text of the non-blank cells of a (header) row, memoised."""
        texts = self._texts.get(row)
        if texts is None:
            texts = {c: cell for c, cell in enumerate(row) if not is_blank(cell)}  # type: ignore[misc]
            if len(self._texts) < 10_000:
                self._texts[row] = texts
        return texts

    def is_key_row(self, row: tuple[str | None, ...]) -> bool:
        """A row under the labels that holds the keys (`ma_truong`, ...), memoised."""
        known = self._key_rows.get(row)
        if known is None:
            filled = [cell for cell in row if not is_blank(cell)]
            hits = sum(self.is_key(cell) for cell in filled)
            known = hits > 0 and hits * 2 >= len(filled)
            if len(self._key_rows) < 10_000:
                self._key_rows[row] = known
        return known


_MATCHERS: dict[int, tuple[SheetSpec, _Matcher]] = {}
_TIERS: dict[int, tuple[SheetSpec, list[tuple[Callable[[str], str], dict[str, str]]]]] = {}


def _label_tiers(spec: SheetSpec) -> list[tuple[Callable[[str], str], dict[str, str]]]:
    """Per matching tier, its form of every key, label and alias of the sheet -> key; a form shared by two
    keys is left out (it would be a guess). Derived from the layout alone, so kept as long as the layout
    (not one of the memos `forget_memos` drops)."""
    cached = _TIERS.get(id(spec))
    if cached is None or cached[0] is not spec:
        tiers = []
        for form in (normalize_label, loose_label, compact_label, bare_label):
            table: dict[str, str] = {}
            clashes: set[str] = set()
            for column in spec.columns:
                for text in (column.key, *column.labels):
                    token = form(text)
                    if table.setdefault(token, column.key) != column.key:
                        clashes.add(token)
            tiers.append((form, {t: k for t, k in table.items() if t not in clashes}))
        cached = _TIERS[id(spec)] = (spec, tiers)
    return cached[1]


class _LayoutMemo:
    """What the reader derives from a layout's wording, memoised: the same texts come back in every file."""

    _LIMIT = 20_000

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._totals_exact = {normalize_label(t) for t in layout.totals_labels}
        self._totals_loose = {loose_label(t) for t in layout.totals_labels}
        self._totals_qualified = {f"{label} {loose_label(q)}" for label in self._totals_loose
                                  for q in layout.totals_qualifiers}
        self._totals_memo: dict[str, bool] = {}
        self._spellings: dict[tuple[str, Any], Any] = {}
        self._header_values: dict[tuple[str, str | None], Any] = {}
        # a sheet is read under its version's name or an alias (its name in an earlier version)
        self._wanted = {normalize_sheet_name(written): spec.name for spec in layout.sheets.values()
                        for written in spec.sheet_names}
        self._wanted_bare = {bare_sheet_name(written): spec.name for spec in layout.sheets.values()
                             for written in spec.sheet_names}
        self._sheets: dict[str, str | None] = {}

    def sheet(self, name: str) -> str | None:
        """The canonical name of a sheet name as written, or None (names matched after normalisation)."""
        try:
            return self._sheets[name]
        except KeyError:
            canonical = self._wanted.get(normalize_sheet_name(name)) or self._wanted_bare.get(bare_sheet_name(name))
            if len(self._sheets) < self._LIMIT:
                self._sheets[name] = canonical
            return canonical

    def totals(self, cell: str) -> bool:
        """Whether a cell (at most 40 characters) is a totals label (`Tổng cộng`, `Cộng`...)."""
        if cell.isascii() and cell.isdigit():
            # a number (the sums of a totals row, before its label): its own normal and loose form, and
            # different in every file, so neither normalised nor remembered
            return cell in self._totals_exact or cell in self._totals_loose
        known = self._totals_memo.get(cell)
        if known is None:
            text = normalize_label(cell).strip(" :.")
            known = text in self._totals_exact or loose_label(text) in self._totals_loose
            if not known and self._totals_qualified:
                # `Tổng số (toàn huyện)`, `Cộng: toàn huyện` read as `tong so toan huyen`
                words = " ".join(_compact_words(loose_label(text)))
                known = words in self._totals_qualified or words in self._totals_loose
            if len(self._totals_memo) < self._LIMIT:
                self._totals_memo[cell] = known
        return known

    def spelling(self, key: str, kind: str, cell: Any) -> Any:
        """`parse_enum` (kind `enum`) or `parse_flag` (`flag`) of a cell; raises `InvalidValue` the same way."""
        try:
            known = self._spellings[(key, cell)]
        except KeyError:
            try:
                if kind == "enum":
                    known = parse_enum(cell, self.layout.enums[key])
                else:
                    known = parse_flag(cell, self.layout.flags)
            except InvalidValue as exc:
                known = exc
            if len(self._spellings) < self._LIMIT:
                self._spellings[(key, cell)] = known
        except TypeError:  # an unhashable value: not from a sheet, not memoised
            return parse_enum(cell, self.layout.enums[key]) if kind == "enum" else parse_flag(cell, self.layout.flags)
        if isinstance(known, InvalidValue):
            raise InvalidValue(*known.args)
        return known

    def header_value(self, column: ColumnSpec, cell: str | None, parse: Callable[..., Any]) -> Any:
        """`parse(cell, column, is_number=False)` of a ThongTin value; raises the same `ParseError`.

        Memoised: the version, school year, round, dates and author repeat from file to file, and the
        parsers' patterns cost more than a look-up. Values are immutable (str, int, date).
        """
        try:
            known = self._header_values[(column.key, cell)]
        except KeyError:
            try:
                known = parse(cell, column, is_number=False)
            except (NotANumber, InvalidValue) as exc:
                known = exc
            if len(self._header_values) < self._LIMIT:
                self._header_values[(column.key, cell)] = known
        if isinstance(known, NotANumber | InvalidValue):
            raise type(known)(*known.args)
        return known


_LAYOUT_MEMOS: dict[int, _LayoutMemo] = {}


def _layout_memo(layout: Layout) -> _LayoutMemo:
    memo = _LAYOUT_MEMOS.get(id(layout))
    if memo is None or memo.layout is not layout:
        memo = _LAYOUT_MEMOS[id(layout)] = _LayoutMemo(layout)
    return memo


def forget_memos() -> None:
    """Drop what the reader remembered from earlier files (headers, label matches, ThongTin values), as a
    fresh process starts. For benchmarks: a night reads each file once, so a bench that reads the same
    files again must not let the second pass find them remembered."""
    _LAYOUT_MEMOS.clear()
    _MATCHERS.clear()


def _matcher(spec: SheetSpec) -> _Matcher:
    cached = _MATCHERS.get(id(spec))
    if cached is None or cached[0] is not spec:
        cached = (spec, _Matcher(spec))
        _MATCHERS[id(spec)] = cached
    return cached[1]


def _column(spec: SheetSpec, key: str) -> ColumnSpec:
    return _matcher(spec).columns[key]


def _wide_header(grid: Grid, matcher: _Matcher) -> tuple[int, dict[int, str]] | None:
    """The row and its columns' keys when a key/value sheet is written as a table: a row naming three or
    more of its items (a key/value sheet names one a row)."""
    for r, row in enumerate(grid.rows):
        if sum(not is_blank(cell) for cell in row) < 3:
            continue
        keys = {c: key for c, cell in enumerate(row) if not is_blank(cell) and (key := matcher.match(cell))}
        if len(set(keys.values())) >= 3:
            return r, keys
    return None


def _is_stt(text: str | None) -> bool:
    return text is not None and loose_label(text).strip(" .:") in _STT_LABELS


# ---------------------------------------------------------------- header detection


@dataclass
class _Header:
    """Where a table's header is and which column holds which key."""

    first_row: int  # 0-based row of the (first) label row
    data_start: int  # 0-based first row after the header (and its key row)
    keys: dict[str, list[int]]  # key -> grid columns naming it
    labels: dict[int, str]  # grid column -> header text as written (for messages)
    # key -> grid column, when every labelled column names a distinct key and none is missing
    # (nothing to settle or report); set on the headers `_Matcher` remembers
    plain_columns: dict[str, int] | None = None
    # grid column -> (its header over several rows, the keys it could be): not read, reported (`ambiguous_column`)
    unclear: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


def _plain_columns(header: _Header, required: set[str]) -> dict[str, int] | None:
    """Key -> column when every labelled column names a distinct key and no required key is missing
    (nothing to settle or report), else None."""
    matched = {c for cols in header.keys.values() for c in cols}
    if len(matched) == len(header.keys) == len(header.labels) and required <= header.keys.keys():
        return {key: cols[0] for key, cols in header.keys.items()}
    return None


def _row_matches(row: tuple[str | None, ...], matcher: _Matcher) -> dict[int, str]:
    return dict(matcher.row(row))


def _stacked_matches(
    rows: list[tuple[str | None, ...]], matcher: _Matcher
) -> tuple[dict[int, str], dict[int, str], dict[int, tuple[str, tuple[str, ...]]]]:
    """Matches of a header written over two or three rows, each group label carried rightwards over the columns
    under it, and the columns it cannot tell (column -> its header, the keys it could be).

    A column's header is its cells from the top row down, a blank cell taking the label written to its left in
    that row (a label merged over several columns), until a cell of a row above starts a new one; it ends with
    the column's last written cell. Written in one cell (a label merged down), it is matched as a one-row
    label. Else by its last cell alone (`Tổng số giáo viên` under a group) or by all its cells together
    (`_Matcher.path_match`: `CBQL` › `Tổng số`); when these name two different columns, or the cells together
    are words of several columns (`Trình độ` › `ĐH`), the column is not read and is reported: never a guess.
    """
    matches: dict[int, str] = {}
    labels: dict[int, str] = {}
    unclear: dict[int, tuple[str, tuple[str, ...]]] = {}
    carried: list[str | None] = [None] * len(rows)
    for c in range(len(rows[0])):
        parts: list[str] = []
        for k, row in enumerate(rows):
            cell = row[c]
            if not is_blank(cell):
                carried[k] = cell
                carried[k + 1:] = [None] * (len(rows) - k - 1)  # a new label: the rows under it start anew
                parts.append(cell)  # type: ignore[arg-type]
            elif carried[k] is not None:
                parts.append(carried[k])  # type: ignore[arg-type]
        if all(is_blank(row[c]) for row in rows):
            continue  # only a group over it: a spacer, or the merged label's own blank cells
        if len(parts) == 1:
            if key := matcher.match(parts[0]):
                matches[c], labels[c] = key, parts[0]
            continue
        alone = matcher.match(parts[-1])
        combined, within = matcher.path_match(tuple(parts))
        text = " / ".join(part.strip() for part in parts)
        if alone is not None and combined is not None and alone != combined:
            unclear[c] = (text, (alone, combined))
        elif alone is not None:
            matches[c], labels[c] = alone, parts[-1]
        elif combined is not None:
            matches[c], labels[c] = combined, text
        elif within:
            unclear[c] = (text, within)
    return matches, labels, unclear


def _find_header(grid: Grid, matcher: _Matcher, search_rows: int) -> _Header | None:
    """The label row (or pair of rows) naming the most template columns within the first rows."""
    known = matcher.known_header(grid, search_rows)
    if known is not None:
        return _below_key_row(grid, matcher, _sub_labelled(grid, matcher, known))
    singles: list[dict[int, str]] = []
    for r in range(min(search_rows, grid.height)):  # rows made one at a time: the search usually stops early
        singles.append(_row_matches(grid.row(r), matcher))
        if matcher.required <= set(singles[-1].values()):
            break  # no later row can name more of the required columns
    best = max(range(len(singles)), key=lambda r: len(set(singles[r].values())), default=None)
    if best is None or not singles[best]:
        return None
    first, last = best, best
    matches = singles[best]
    labels = dict(matcher.texts(grid.row(best)))
    unclear: dict[int, tuple[str, tuple[str, ...]]] = {}
    complete = matcher.required <= set(matches.values())
    # A label split over rows only matters when one is missing: two rows, then three (a group over groups:
    # `Giáo viên` › `Trình độ` › `ĐH`), each taken only when it names more columns than the fewer rows did.
    for upper, height in () if complete else ((best - 1, 2), (best, 2), (best - 2, 3), (best - 1, 3), (best, 3)):
        lower = upper + height - 1
        if upper < 0 or lower >= grid.height:
            continue
        rows = [grid.row(r) for r in range(upper, lower + 1)]
        stacked, stacked_labels, stacked_unclear = _stacked_matches(rows, matcher)
        named, before = len(set(stacked.values())), len(set(matches.values()))
        # as many columns named, and some the rows together cannot tell: those rows are the header, whose
        # columns are reported with what they could be (else only "missing" and "not in the template")
        if named > before or (named == before and len(stacked_unclear) > len(unclear)):
            first, last, matches, unclear = upper, lower, stacked, stacked_unclear
            labels = {c: _header_text(rows, c) for c in range(grid.width)}
            labels = {c: t for c, t in labels.items() if t} | stacked_labels | {c: t for c, (t, _) in unclear.items()}
    keys: dict[str, list[int]] = {}
    for c, key in sorted(matches.items()):
        keys.setdefault(key, []).append(c)
    header = _Header(first_row=first, data_start=last + 1, keys=keys, labels=labels, unclear=unclear)
    if complete:  # found in one row that stopped the search: rows 0 to `best` decide everything above
        matcher.remember_header(singles, grid.row(best), header)
        header = _sub_labelled(grid, matcher, header)
    return _below_key_row(grid, matcher, header)


def find_columns(rows: list[tuple[Any, ...]], spec: SheetSpec, search_rows: int) -> dict[str, tuple[int, str]]:
    """Template key -> (0-based column, its header as written) in the first rows of a table sheet, found as the
    reader finds them, a header over several rows included (`CBQL` › `Tổng số`): for the annotated copy, whose
    own search finds a label written in one cell only."""
    width = max(map(len, rows), default=0)
    columns = [[None if c >= len(row) or row[c] is None else str(row[c]) for row in rows] for c in range(width)]
    header = _find_header(Grid(spec.name, columns=columns, errors={}), _matcher(spec), search_rows) if rows else None
    if header is None:
        return {}
    return {key: (cols[0], header.labels.get(cols[0], "")) for key, cols in header.keys.items() if len(cols) == 1}


def _sub_labelled(grid: Grid, matcher: _Matcher, header: _Header) -> _Header:
    """A header found complete in one row, read with the row under it when that row splits a label merged over
    several columns into sub-labels that put a column elsewhere: `Số trẻ mẫu giáo` over `% | SL` is the `SL`
    column, where the merged label's first cell (the percentages) named it. Else the header as it is.

    The row under is looked at only when it holds neither the row's key (a school, a course) nor a number (a
    row numbering the columns); a row of units (`(người)`) or a heading names the same columns, or fewer, and
    leaves the header as it is."""
    r = header.first_row
    if header.data_start != r + 1 or r + 1 >= grid.height:
        return header
    below = grid.row(r + 1)
    key_columns = header.keys.get(matcher.spec.row_key, [])
    if any(not is_blank(below[c]) for c in key_columns) or any(_looks_numeric(cell) for cell in below):
        return header
    rows = [grid.row(r), below]
    pair, pair_labels, unclear = _stacked_matches(rows, matcher)
    keys: dict[str, list[int]] = {}
    for c, key in sorted(pair.items()):
        keys.setdefault(key, []).append(c)
    if keys == header.keys or not header.keys.keys() <= keys.keys():
        return header
    labels = {c: _header_text(rows, c) for c in range(grid.width)}
    labels = {c: t for c, t in labels.items() if t} | pair_labels | {c: t for c, (t, _) in unclear.items()}
    return _Header(first_row=r, data_start=r + 2, keys=keys, labels=labels, unclear=unclear)


def _below_key_row(grid: Grid, matcher: _Matcher, header: _Header) -> _Header:
    """The header with its data starting after the row of keys under the labels, if there is one."""
    if header.data_start < grid.height and _is_key_row(grid.row(header.data_start), matcher):
        return replace(header, data_start=header.data_start + 1)
    return header


def _is_numbering_row(row: tuple[str | None, ...], labelled: int) -> bool:
    """A row numbering the columns under a header, as Vietnamese forms do: in at least half of the labelled
    columns, only short column numbers (`1`, `(2)`), rising from left to right, and letters (`A`, `(B)`).
    A school row has a code of many digits or a name; a totals row its label."""
    numbers: list[int] = []
    letters: list[int] = []
    for cell in row:
        if cell is None or not (token := cell.strip()):
            continue
        inner = token[1:-1] if token[:1] == "(" and token[-1:] == ")" else token
        if inner.isascii() and inner.isdigit() and len(inner) <= 3:
            numbers.append(int(inner))
        elif inner.isascii() and inner.isalpha() and inner.isupper() and len(inner) <= 2:
            letters.append(_column_index(inner))
        else:
            return False
    filled = len(numbers) + len(letters)
    if filled < 3 or filled * 2 < labelled:
        return False
    # numbers rising (`A B 1 2 3`), or letters alone in order (`A B C D`)
    rising = len(numbers) >= 2 and all(a < b for a, b in zip(numbers, numbers[1:], strict=False))
    lettered = not numbers and all(b == a + 1 for a, b in zip(letters, letters[1:], strict=False))
    return rising or lettered


def _header_text(rows: list[tuple[str | None, ...]], c: int) -> str:
    parts = [cell.strip() for row in rows if not is_blank(cell := row[c])]  # type: ignore[union-attr]
    return " / ".join(p for p in parts if p)


def _is_key_row(row: tuple[str | None, ...], matcher: _Matcher) -> bool:
    return matcher.is_key_row(row)


# ---------------------------------------------------------------- the workbook reader


@dataclass
class _TableColumns:
    """The grid columns a table reads, after duplicates and ignored columns are settled."""

    by_key: dict[str, int] = field(default_factory=dict)
    ignored: set[int] = field(default_factory=set)  # STT and extra columns: never data
    stt: set[int] = field(default_factory=set)  # row-number columns: a row with only these is blank


class _WorkbookReader:
    def __init__(self, source: _XlsxSource | _CsvZipSource, layout: Layout, result: ParsedWorkbook,
                 check_version: Callable[[Any], None] = lambda version: None) -> None:
        self.source = source
        self.layout = layout
        self.result = result
        self._check_version = check_version  # raises _OtherVersion: the file is read with another layout
        self.findings = result.findings
        self._totals = _layout_memo(layout).totals
        self._totals_first_words = {loose_label(label).split()[0] for label in layout.totals_labels}
        # sheets with a template cell read as empty where a value belongs (a data row's cell, a totals
        # cell, a ThongTin value): only there can a formula saved without its value hide (see `_read_one`)
        self.suspect_sheets: set[str] = set()

    # -- workbook level

    def read(self, *, one_by_one: bool = False) -> list[_TableReader]:
        """ThongTin, then the tables: every sheet loaded and turned into Python values at once, rows
        sorted out sheet by sheet, the count cells of every sheet typed in one go, then the other
        cells and totals sheet by sheet. The findings come out in sheet order, as if each sheet had
        been read whole in turn (`one_by_one` does that, for broken files: see `_read_one`).

        Returns the table readers, whose typed columns `_stack_tables` makes into the frames. The
        cells and the file are let go here: the next file's cells reuse their memory."""
        matched = self._match_sheets()
        info_spec = next((s for s in self.layout.sheets.values() if s.kind == "key_value"), None)
        if info_spec is not None and info_spec.name not in matched:
            info_spec = None
        tables = [spec for spec in self.layout.table_sheets if spec.name in matched]
        if one_by_one:
            readers = self._read_one_by_one(matched, info_spec, tables)
        else:
            names = [matched[spec.name] for spec in ([info_spec] if info_spec else []) + tables]
            grids = self.source.load_all(names)
            if info_spec is not None:
                self._read_key_value(grids.pop(0), info_spec)
            self.result.template_version = self.result.header.get("phien_ban")
            self._check_version(self.result.template_version)
            pending: list[tuple[_TableReader | None, list[Finding]]] = []
            for spec, grid in zip(tables, grids, strict=True):
                self.findings = []
                pending.append((self._read_table(grid, spec, required=self._required(spec)), self.findings))
            _finish_tables(pending)
            for _, found in pending:
                self.result.findings.extend(found)
            self.findings = self.result.findings
            readers = [reader for reader, _ in pending if reader is not None]
        self._report_missing_sheets(matched)
        if self.suspect_sheets and isinstance(self.source, _XlsxSource):
            self._report_merged_cells(readers, self.source)
        for reader in readers:
            reader.grid = None
        self.source = None
        return readers

    def _report_merged_cells(self, readers: list[_TableReader], source: _XlsxSource) -> None:
        """A merged range over a table's data or totals cells: only its first cell holds the value, the
        others read as empty (a count as 0). Which value each school has is not written, so it is an
        error, one per range, at its first row and template column (free-text columns aside). Looked for
        only in sheets with an empty template cell (`suspect_sheets`): a merged range always leaves one."""
        for reader in readers:
            grid = reader.grid
            if grid.name not in self.suspect_sheets:
                continue
            rows = set(reader.data_rows) | ({reader.totals[0]} if reader.totals else set())
            # free text (a school's name) is descriptive: a merged name leaves no number unread
            columns = {c + grid.col_offset: column for column in reader.specs
                       if (c := reader.by_key[column.key]) != reader.row_col and column.type != "text"}
            for first_row, first_col, last_row, last_col in source.xml_fact(grid.name, _SheetXml.merged_ranges, []):
                covered = [(r, c) for r in range(first_row, last_row + 1) for c in range(first_col, last_col + 1)
                           if (r, c) != (first_row, first_col) and r in rows and c in columns]
                if not covered:
                    continue
                self._unread_covered(reader, covered, columns)
                r, c = covered[0]
                column = columns[c]
                ref = f"{column_letter(first_col)}{first_row + 1}:{column_letter(last_col)}{last_row + 1}"
                lines = f"dòng {first_row + 1}" if first_row == last_row else f"dòng {first_row + 1}-{last_row + 1}"
                self._add(
                    "error",
                    "merged_cells",
                    f"Các ô {ref} ({lines}, cột '{column.label_vi}') được gộp thành một ô, nên chỉ ô đầu "
                    f"{column_letter(first_col)}{first_row + 1} có số liệu, các ô còn lại đọc là trống. "
                    f"Hãy bỏ gộp ô và ghi số liệu của từng trường vào dòng của trường đó.",
                    sheet=grid.name,
                    row=r + 1,
                    key=column.key,
                    value=ref,
                )

    # findings about a cell a merged range covers, made before the range was known (it is looked for last)
    _MERGE_FOLLOW_ONS = ("missing_value", "totals_row_mismatch")

    def _unread_covered(self, reader: _TableReader, covered: list[tuple[int, int]],
                        columns: dict[int, ColumnSpec]) -> None:
        """The cells a merged range covers hold nothing of their own: their values become unknown (NA, as an
        unreadable cell's), not the 0 or the missing value an empty cell reads as, so no rule reports them
        again (a second school's 'lớp 5 tuổi = 5 > 0', 'Loại hình' missing) and their column's sum is not
        checked against the totals row. The merged_cells finding is the one the clerk gets."""
        position = {r: i for i, r in enumerate(reader.data_rows)}
        keys = set()
        for r, c in covered:
            key = columns[c].key
            keys.add(key)
            reader.bad[key] = True
            reader.sums.pop(key, None)
            if r not in position:
                continue  # the totals row: its cell is only compared, and not with a covered cell
            values = reader.values[key]
            if isinstance(values, np.ndarray):
                values = reader.values[key] = values.tolist()
                reader.count_block = None  # the column leaves the all-complete block: it has an NA now
            values[position[r]] = None
        cells = {(r + 1, columns[c].key) for r, c in covered}
        self.findings[:] = [
            f for f in self.findings
            if not (f.sheet == reader.grid.name and f.rule in self._MERGE_FOLLOW_ONS
                    and ((f.row_number, f.column_key) in cells
                         or (f.rule == "totals_row_mismatch" and f.column_key in keys)))
        ]

    def _read_one_by_one(
        self, matched: dict[str, str], info_spec: SheetSpec | None, tables: list[SheetSpec]
    ) -> list[_TableReader]:
        if info_spec is not None:
            self._read_key_value(self.source.load_all([matched[info_spec.name]])[0], info_spec)
        self.result.template_version = self.result.header.get("phien_ban")
        self._check_version(self.result.template_version)
        readers = []
        for spec in tables:
            grid = self.source.load_all([matched[spec.name]])[0]
            reader = self._read_table(grid, spec, required=self._required(spec))
            found: list[Finding] = []
            _finish_tables([(reader, found)])
            self.findings.extend(found)
            if reader is not None:
                readers.append(reader)
        return readers

    def _round(self) -> str | None:
        return self.result.header.get("ky_bao_cao")

    def _required(self, spec: SheetSpec) -> bool:
        """Required in the round read from ThongTin; in every round when the round is unknown."""
        rounds = self.layout.enums.get("ky_bao_cao", {}).keys()
        current = self._round()
        if current is None:
            return bool(spec.required_in) and all(r in spec.required_in for r in rounds)
        return current in spec.required_in

    def _match_sheets(self) -> dict[str, str]:
        """Canonical sheet name -> sheet name as written; reports ignored and duplicate sheets."""
        memo = _layout_memo(self.layout)
        matched: dict[str, str] = {}
        for name in self.source.sheet_names:
            # a CSV named by its path (`_CsvZipSource`); an Excel sheet name cannot hold a `/`
            canonical = memo.sheet(name.rpartition("/")[2])
            if canonical is None and isinstance(self.source, _CsvZipSource) and " - " in name:
                # Google Sheets names a sheet's download `<spreadsheet> - <sheet>.csv`
                canonical = memo.sheet(name.rpartition("/")[2].rpartition(" - ")[2])
            if canonical is None:
                self._add("info", "ignored_sheet", f"Trang tính '{name}' không thuộc biểu mẫu, đã bỏ qua.", sheet=name)
            elif canonical in matched:
                first = matched[canonical]
                hidden = self.source.hidden_sheets()  # asked only of a sheet that is there twice
                if (first in hidden) == (name in hidden):
                    self._add(
                        "error",
                        "duplicate_sheet",
                        f"Có hai trang tính cùng là '{canonical}': '{first}' và '{name}'; "
                        f"chỉ đọc '{first}'. Hãy xoá trang thừa.",
                        sheet=name,
                    )
                    continue
                # Last year's sheet kept hidden beside this year's copy: Excel shows one, which is the one read.
                stale, shown = (first, name) if first in hidden else (name, first)
                matched[canonical] = shown
                self._add("info", "ignored_sheet", f"Trang tính '{stale}' bị ẩn và trùng với trang '{shown}', đã "
                          f"bỏ qua; số liệu được đọc ở trang '{shown}'.", sheet=stale)
            else:
                matched[canonical] = name
        for member in self.source.other_members:
            self._add("info", "ignored_sheet", f"Tệp '{member}' trong tệp nén không thuộc biểu mẫu, đã bỏ qua.")
        self.result.sheet_names.update(matched)
        return matched

    def _report_missing_sheets(self, matched: dict[str, str]) -> None:
        unknown: list[str] | None = None
        for spec in self.layout.sheets.values():
            if spec.name not in matched and self._required(spec):
                period = f" (kỳ báo cáo {self._round()})" if self._round() else ""
                if unknown is None:  # the file's sheets no template sheet took, once per file
                    taken = set(matched.values())
                    unknown = [name for name in self.source.sheet_names if name not in taken]
                # the clerk may have renamed or copied the sheet: name the ones the file has, so it can be fixed
                listed = ", ".join("'" + name + "'" for name in unknown[:8]) + (", …" if len(unknown) > 8 else "")
                found = (f" Tệp có trang tính không mang tên nào của biểu mẫu: {listed}; "
                         f"nếu số liệu nằm ở một trang trong đó, hãy đổi tên trang ấy thành '{spec.name}'."
                         if unknown else "")
                # the sheet named is the template's (the file has none): the same as the validator's findings
                self._add("error", "missing_sheet", f"Thiếu trang tính bắt buộc '{spec.name}'{period}.{found}",
                          sheet=spec.name)

    def _add(
        self,
        severity: str,
        rule: str,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        key: str | None = None,
        value: Any = None,
    ) -> None:
        text = None if value is None else str(value)
        self.findings.append(Finding(severity, rule, message, sheet, row, key, text))

    # -- ThongTin (key/value)

    def _read_key_value(self, grid: Grid, spec: SheetSpec) -> None:
        matcher = _matcher(spec)
        seen: dict[str, int] = {}
        wide = _wide_header(grid, matcher)
        if wide is not None:
            self._read_wide(grid, spec, *wide, seen)
            self._report_missing_values(grid, spec, seen)
            return
        for r, row in enumerate(grid.rows):
            filled = [c for c, cell in enumerate(row) if not is_blank(cell) or (r, c) in grid.errors]
            if not filled:
                continue
            label_col = filled[0]
            key = matcher.match(row[label_col])
            inline: str | None = None  # the value, when written in the label's cell after a colon
            if key is None and len(filled) == 1 and (r, label_col) not in grid.errors and ":" in row[label_col]:
                label, _, after = row[label_col].partition(":")
                if not is_blank(after) and (key := matcher.match(label)) is not None:
                    inline = after.strip()
            if key is None:
                text = " | ".join(row[c] or grid.errors.get((r, c), "") for c in filled)
                self._add(
                    "info",
                    "ignored_row",
                    f"Dòng {r + 1} của trang '{grid.name}' không ứng với mục nào của biểu mẫu, đã bỏ qua.",
                    sheet=grid.name,
                    row=r + 1,
                    value=_clip(text),
                )
                continue
            column = _column(spec, key)
            # the label may follow the key (`ma_don_vi | Mã đơn vị | 118`, a template exported whole): not a value
            after = [c for c in filled if c > label_col and (c != filled[1] or matcher.match(row[c]) != key)]
            value_col = next(iter(after), None) if inline is None else label_col
            if inline is None and value_col is not None and value_col != filled[-1]:
                value_col = self._visible_value_column(grid, r, after, key)
            if key in seen:
                earlier = seen[key]
                hidden = grid.hidden_rows()  # the sheet's XML, read only for an item written twice
                if (earlier in hidden) == (r in hidden):
                    self._add(
                        "error",
                        "duplicate_value",
                        f"Mục '{column.label_vi}' được ghi hai lần (dòng {earlier + 1} và dòng {r + 1}); "
                        f"chỉ giữ một dòng.",
                        sheet=grid.name,
                        row=r + 1,
                        key=key,
                    )
                    continue
                # Last year's row kept hidden beside this year's: Excel shows one, which is the one read.
                stale, shown = (earlier, r) if earlier in hidden else (r, earlier)
                if stale == earlier:
                    self._forget_item(grid.name, key, earlier)
                self._add(
                    "info",
                    "ignored_row",
                    f"Dòng {stale + 1} của trang '{grid.name}' ('{column.label_vi}') nằm trong hàng ẩn, đã bỏ "
                    f"qua; giá trị được đọc ở dòng {shown + 1}.",
                    sheet=grid.name,
                    row=stale + 1,
                    key=key,
                    value=_clip(" | ".join(cell or "" for cell in grid.row(stale) if not is_blank(cell))),
                )
                if stale == r:
                    continue
            seen[key] = r
            self.result.header_rows[key] = r + 1  # the validator's ThongTin findings point at this row
            if value_col is None:
                self.suspect_sheets.add(grid.name)
                continue
            if (r, value_col) in grid.errors:
                self._formula_error(grid, r, value_col, column)
                continue
            value = self._parse_header_value(grid, r, row[value_col] if inline is None else inline, column)
            width = self.layout.code_widths.get(key)
            if width and isinstance(value, str) and len(value) < width and inline is None \
                    and r in grid.number_rows(value_col):
                value = restore_leading_zeros(value, width)  # a number cell: `58` is district 058
            if value is not None:
                self.result.header[key] = value
        self._report_missing_values(grid, spec, seen)

    def _read_wide(self, grid: Grid, spec: SheetSpec, header_r: int, keys: dict[int, str],
                   seen: dict[str, int]) -> None:
        """ThongTin as a table exports it (a machine's `SELECT`, a spreadsheet's one row per submission): the
        keys or labels in one row, the values in the row under it."""
        below = [r for r in range(header_r + 1, grid.height)
                 if any(not is_blank(cell) or (r, c) in grid.errors for c, cell in enumerate(grid.row(r)))]
        if len(below) > 1:  # two submissions' rows: which one is this file's is not written
            self._add("error", "duplicate_value",
                      f"Trang '{grid.name}' có nhiều dòng giá trị dưới dòng tiêu đề {header_r + 1} (dòng "
                      f"{below[0] + 1} và dòng {below[1] + 1}); chỉ ghi một dòng cho một báo cáo.",
                      sheet=grid.name, row=below[1] + 1)
            return
        r = below[0] if below else None
        taken: dict[str, int] = {}
        for c, key in keys.items():
            column = _column(spec, key)
            if key in taken:
                self._add("error", "duplicate_value",
                          f"Mục '{column.label_vi}' được ghi hai lần (cột {grid.letter(taken[key])} và cột "
                          f"{grid.letter(c)}, dòng {header_r + 1}); chỉ giữ một cột.",
                          sheet=grid.name, row=header_r + 1, key=key)
                continue
            taken[key] = c
            if r is None:
                continue
            seen[key] = r
            self.result.header_rows[key] = r + 1  # the validator's ThongTin findings point at this row
            if (r, c) in grid.errors:
                self._formula_error(grid, r, c, column)
                continue
            value = self._parse_header_value(grid, r, grid.row(r)[c], column)
            width = self.layout.code_widths.get(key)
            if width and isinstance(value, str) and len(value) < width and r in grid.number_rows(c):
                value = restore_leading_zeros(value, width)  # a number cell: `58` is district 058
            if value is not None:
                self.result.header[key] = value

    def _report_missing_values(self, grid: Grid, spec: SheetSpec, seen: dict[str, int]) -> None:
        for column in spec.columns:
            if column.required and column.key not in self.result.header and not self._has_finding(column.key):
                where = f" (dòng {seen[column.key] + 1})" if column.key in seen else ""
                self._add(
                    "error",
                    "missing_value",
                    f"Thiếu thông tin bắt buộc '{column.label_vi}'{where} trong trang '{grid.name}'.",
                    sheet=grid.name,
                    row=seen[column.key] + 1 if column.key in seen else None,
                    key=column.key,
                )

    def _forget_item(self, sheet: str, key: str, r: int) -> None:
        """Drop what was read of a ThongTin item at row r (its value and its findings): another row replaces it."""
        self.result.header.pop(key, None)
        self.findings[:] = [f for f in self.findings
                            if not (f.sheet == sheet and f.row_number == r + 1 and f.column_key == key)]

    def _visible_value_column(self, grid: Grid, r: int, candidates: list[int], key: str) -> int:
        """Of the cells after a label, the first one in a visible column: a value in a hidden column (last
        year's, kept beside this year's) is reported and not read. Asked only of a row with two cells after
        its label, so the sheet's XML is read only then."""
        hidden = grid.hidden_columns()
        chosen = next((c for c in candidates if c not in hidden), candidates[0])
        for c in candidates:
            if c < chosen:
                self._add(
                    "info",
                    "ignored_column",
                    f"Ô {grid.letter(c)}{r + 1} nằm trong cột ẩn, đã bỏ qua; giá trị được đọc ở ô "
                    f"{grid.letter(chosen)}{r + 1}.",
                    sheet=grid.name,
                    row=r + 1,
                    key=key,
                    value=_clip(grid.row(r)[c] or grid.errors.get((r, c))),
                )
        return chosen

    def _has_finding(self, key: str) -> bool:
        return any(f.column_key == key and f.severity == "error" for f in self.findings)

    def _parse_header_value(self, grid: Grid, r: int, cell: str | None, column: ColumnSpec) -> Any:
        try:
            value = _layout_memo(self.layout).header_value(column, cell, self._parse_cell)
        except (NotANumber, InvalidValue) as exc:
            self._bad_value(grid.name, r, column, cell, exc)
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            self._negative(grid.name, r, column, cell)
        return value

    def _parse_cell(self, cell: Any, column: ColumnSpec, *, is_number: bool) -> Any:
        """A non-table cell (ThongTin) or a rare table cell, typed by the column's type."""
        kind = column.type
        if kind == "int":
            return parse_count(cell)
        if kind == "decimal":
            return parse_decimal(_stored_number(cell) if is_number else cell)
        if kind == "date":
            return parse_date(cell)
        if kind == "code":
            return parse_code(cell)
        if kind == "school_year":
            return parse_school_year(cell)
        if kind == "enum":
            return parse_enum(cell, self.layout.enums[column.key])
        if kind == "flag":
            return parse_flag(cell, self.layout.flags)
        return None if is_blank(cell) else " ".join(str(cell).split())

    # -- findings about cells

    def _bad_value(self, sheet: str, r: int, column: ColumnSpec, cell: Any, exc: Exception) -> None:
        if isinstance(exc, InvalidValue):
            choices = ", ".join(self.layout.enums.get(column.key, {}).keys()) if column.type == "enum" else ""
            hint = f"; giá trị hợp lệ: {choices}" if choices else ""
            if is_blank(cell):
                self._add(
                    "error",
                    "missing_value",
                    f"Thiếu giá trị ở cột '{column.label_vi}', dòng {r + 1}{hint}.",
                    sheet=sheet,
                    row=r + 1,
                    key=column.key,
                )
            else:
                self._add(
                    "error",
                    # an unknown round is a wrong period (spec rule code), not just an unknown enumeration
                    "wrong_period" if column.key == "ky_bao_cao" else "invalid_value",
                    f"Giá trị '{cell}' ở cột '{column.label_vi}', dòng {r + 1} không hợp lệ{hint}.",
                    sheet=sheet,
                    row=r + 1,
                    key=column.key,
                    value=cell,
                )
            return
        word = _TYPE_WORDS.get(column.type, "số")
        problem = (f"quá lớn (tối đa {MAX_COUNT:,})".replace(",", ".") if isinstance(exc, CountTooLarge)
                   else f"không phải {word} hợp lệ")
        serial = _date_formatted_number(cell) if column.type in ("int", "decimal") else None
        if serial is not None:
            # A number in a cell formatted as a date: calamine gives the date Excel shows. Which of the two
            # the clerk meant is a guess, so it stays an error, but the message says what happened.
            shown = cell[8:10] + "/" + cell[5:7] + "/" + cell[:4]
            problem = (f"không phải {word}: ô được định dạng kiểu ngày hoặc giờ (Excel hiểu số trong ô là ngày "
                       f"{shown}), còn số lưu trong ô là {serial}; nếu số liệu là {serial}, hãy định dạng lại ô "
                       f"thành kiểu số")
        if column.type == "int" and serial is None and not isinstance(exc, CountTooLarge):
            problem += _count_hint(cell)
        self._add(
            "error",
            "not_a_number",
            f"Giá trị '{cell}' ở cột '{column.label_vi}', dòng {r + 1} {problem}.",
            sheet=sheet,
            row=r + 1,
            key=column.key,
            value=cell,
        )

    def _negative(self, sheet: str, r: int, column: ColumnSpec, cell: Any) -> None:
        self._add(
            "error",
            "negative",
            f"Giá trị âm '{cell}' ở cột '{column.label_vi}', dòng {r + 1}: số liệu phải từ 0 trở lên.",
            sheet=sheet,
            row=r + 1,
            key=column.key,
            value=cell,
        )

    def _formula_error(self, grid: Grid, r: int, c: int, column: ColumnSpec | None) -> None:
        literal = grid.errors[(r, c)]
        where = f"cột '{column.label_vi}'" if column else f"cột {grid.letter(c)}"
        value = _clip(literal)
        if literal.startswith("="):  # a formula saved without its value (`_SheetXml.unvalued_formulas`)
            # a filled-down (shared) formula's cells but the first hold no text of their own: none is shown
            formula = f"công thức {_clip(literal, 60)}" if literal != "=" else "công thức"
            value = value if literal != "=" else None
            message = (
                f"Ô {grid.letter(c)}{r + 1} ({where}, dòng {r + 1}) có {formula} nhưng tệp "
                f"không lưu kết quả của công thức (tệp được tạo bằng phần mềm không tính công thức), nên không "
                f"đọc được số liệu; hãy mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi gửi lại."
            )
        else:
            message = (f"Ô {grid.letter(c)}{r + 1} ({where}, dòng {r + 1}) có lỗi công thức {literal}; "
                       f"hãy sửa công thức hoặc nhập số liệu.")
        self._add(
            "error",
            "formula_error",
            message,
            sheet=grid.name,
            row=r + 1,
            key=column.key if column else None,
            value=value,
        )

    # -- per-school and per-course tables

    def _read_table(self, grid: Grid, spec: SheetSpec, *, required: bool) -> _TableReader | None:
        """Header, columns and rows of a table sheet: the reader to finish, or None when there is none."""
        matcher = _matcher(spec)
        header = _find_header(grid, matcher, self.layout.header_search_rows)
        if header is None and not grid.errors and all(is_blank(cell) for col in grid.columns for cell in col):
            if required:
                self._add(
                    "error", "missing_sheet", f"Trang tính bắt buộc '{grid.name}' không có dữ liệu.", sheet=grid.name
                )
            return None
        if header is None:
            self._add(
                "error" if required else "warning",
                "header_not_found",
                f"Không tìm thấy dòng tiêu đề cột trong {self.layout.header_search_rows} dòng đầu của "
                f"trang tính '{grid.name}'; trang này chưa được đọc.",
                sheet=grid.name,
            )
            return None
        self.result.header_rows[spec.name] = header.first_row + 1
        if header.data_start < grid.height and _is_numbering_row(grid.row(header.data_start), len(header.labels)):
            # `1 2 3 ...`, `(1) (2) ...` or `A B 1 2 ...` under the labels: the columns' numbers, not a school
            self._add(
                "info",
                "ignored_row",
                f"Dòng {header.data_start + 1} của trang '{grid.name}' là dòng đánh số cột, đã bỏ qua.",
                sheet=grid.name,
                row=header.data_start + 1,
            )
            header = replace(header, data_start=header.data_start + 1)
        columns = self._settle_columns(grid, spec, header)
        reader = _TableReader(self, grid, spec, header, columns)
        reader.scan()
        return reader

    def _settle_columns(self, grid: Grid, spec: SheetSpec, header: _Header) -> _TableColumns:
        settled = _TableColumns()
        matcher = _matcher(spec)
        # a remembered header knows already; else the same test as when it was remembered
        plain = header.plain_columns if header.plain_columns is not None else _plain_columns(header, matcher.required)
        if plain is not None:
            settled.by_key = plain
            return settled
        matched = {c for cols in header.keys.values() for c in cols}
        needs_hidden = len(matched) > len(header.keys) or any(
            c not in matched and not _is_stt(text) for c, text in header.labels.items()
        )
        hidden = grid.hidden_columns() if needs_hidden else frozenset()
        for key, cols in header.keys.items():
            column = matcher.columns[key]
            visible = [c for c in cols if c not in hidden]
            chosen = visible if len(cols) > 1 and visible else cols
            settled.by_key[key] = chosen[0]
            if len(chosen) > 1:
                letters = ", ".join(grid.letter(c) for c in chosen)
                self._add(
                    "error",
                    "duplicate_column",
                    f"Cột '{column.label_vi}' xuất hiện nhiều lần (cột {letters}) trong trang tính "
                    f"'{grid.name}'; hãy giữ lại một cột.",
                    sheet=grid.name,
                    key=key,
                )
                # the error names the other copies already: no "not in the template" info for them
                settled.ignored.update(chosen[1:])
            for c in cols:
                if c not in chosen:
                    settled.ignored.add(c)
                    self._add(
                        "info",
                        "ignored_column",
                        f"Cột ẩn {grid.letter(c)} '{header.labels.get(c, '')}' trùng cột "
                        f"'{column.label_vi}', đã bỏ qua.",
                        sheet=grid.name,
                        key=key,
                        value=header.labels.get(c),
                    )
        used = set(settled.by_key.values())
        unmatched: list[str] = []  # the sheet's own columns no template label took, as the clerk wrote them
        for c, text in sorted(header.labels.items()):
            if c in used or c in settled.ignored:
                continue
            settled.ignored.add(c)
            if c in header.unclear:
                self._report_unclear(grid, matcher, header, c, used=settled.by_key)
                unmatched.append(f"'{_clip(text)}' (cột {grid.letter(c)})")
                continue
            if _is_stt(text):
                settled.stt.add(c)
                message = f"Cột số thứ tự '{text}' (cột {grid.letter(c)}) không thuộc biểu mẫu, đã bỏ qua."
            elif c in hidden:
                message = f"Cột ẩn '{text}' (cột {grid.letter(c)}) không thuộc biểu mẫu, đã bỏ qua."
            else:
                message = f"Cột '{text}' (cột {grid.letter(c)}) không thuộc biểu mẫu, đã bỏ qua."
                unmatched.append(f"'{_clip(text)}' (cột {grid.letter(c)})")
            self._add("info", "ignored_column", message, sheet=grid.name, row=header.first_row + 1, value=_clip(text))
        # A required column is most often there under the clerk's own wording ("Trong đó: GV biên chế"), whose
        # "not in the template" is only info, never mailed: the error names those columns, so the clerk sees
        # which one to rename, as a missing sheet names the sheets no template name took.
        hint = ("; các cột của trang tính không khớp với tên cột nào của mẫu: " + ", ".join(unmatched)
                + ". Nếu cột cần có là một trong các cột này, hãy sửa tên cột cho đúng như trong mẫu"
                if unmatched else "")
        for column in spec.columns:
            if column.required and column.key not in settled.by_key:
                self._add(
                    "error",
                    "missing_column",
                    f"Thiếu cột bắt buộc '{column.label_vi}' ({column.key}) trong trang tính '{grid.name}'{hint}.",
                    sheet=grid.name,
                    key=column.key,
                )
        return settled

    def _report_unclear(self, grid: Grid, matcher: _Matcher, header: _Header, c: int, *, used: dict[str, int]) -> None:
        """A column whose header over several rows could be two or more template columns: not read. An error
        when one of them is missing from the sheet (the district's numbers for it are in this column, or
        nowhere), else info (each of them is read from a column of its own)."""
        text, keys = header.unclear[c]
        candidates = " hoặc ".join(f"'{matcher.columns[key].label_vi}'" for key in keys)
        missing = [key for key in keys if key not in used]
        self._add(
            "error" if missing else "info",
            "ambiguous_column",
            f"Cột {grid.letter(c)} '{_clip(text)}' của trang tính '{grid.name}' không rõ là cột nào của mẫu: có thể "
            f"là {candidates}; cột này chưa được đọc. Hãy sửa tên cột (và tên nhóm cột gộp phía trên) cho đúng "
            f"như trong mẫu.",
            sheet=grid.name,
            row=header.first_row + 1,
            key=missing[0] if len(missing) == 1 else None,
            value=_clip(text),
        )

    def is_totals_label(self, cell: str | None) -> bool:
        if cell is None or len(cell) > 40:
            return False
        return self._totals(cell)

    def starts_with_totals_word(self, text: str) -> bool:
        """Whether a text begins with a word of a totals label (`Cộng cụm 1`, `Tổng công lập`)."""
        words = loose_label(text).split()
        return bool(words) and words[0].strip(":.") in self._totals_first_words


class _TableReader:
    """Reads the rows of one table sheet below its header into columns, totals and findings."""

    def __init__(
        self, owner: _WorkbookReader, grid: Grid, spec: SheetSpec, header: _Header, columns: _TableColumns
    ) -> None:
        self.owner = owner
        self.grid = grid
        self.spec = spec
        self.header = header
        self.by_key = columns.by_key
        self.ignored = columns.ignored
        self.stt = columns.stt
        self.row_col = columns.by_key.get(spec.row_key)
        self.row_is_code = _column(spec, spec.row_key).type == "code"
        self.specs = [column for column in spec.columns if column.key in columns.by_key]
        # key -> typed cells: a list, or an int64 array for counts read straight from Arrow
        self.values: dict[str, list[Any] | np.ndarray] = {c.key: [] for c in self.specs}
        self.sums: dict[str, int] = {}  # key -> sum of the count columns read from Arrow
        self.bad: dict[str, bool] = {}  # key -> some cell unreadable (its column sum is not comparable)
        self._number_rows: dict[int, frozenset[int]] = {}
        self.data_rows: list[int] = []
        self.totals: tuple[int, dict[str, Any]] | None = None  # the totals row checked (`settle_totals`)
        self.totals_rows: list[int] = []  # the rows labelled as totals (`Tổng cộng`, and a section's `Cộng`)
        # rows without a code holding numbers: a group's sums (`Cộng cụm 1`) if they are, else unlabelled
        self.sum_rows: list[int] = []
        self.counts: list[ColumnSpec] = []  # count columns for `_type_counts`
        self.error_columns: set[int] = set()  # grid columns with a formula error in a data row
        self.plain_codes = False  # every data row's code is plain digits (checked by `scan`)
        # the count cells `_type_counts` typed, one row per column of `counts` (in the batch's array)
        self.count_block: np.ndarray | None = None

    def scan(self) -> None:
        """Sort out the rows below the header: data rows, the totals row (read now), the rest reported."""
        if self.row_col is None:
            return  # without the row key no row can be told apart; missing_column says so
        data_rows = self.data_rows
        totals_rows = self.totals_rows
        row = self.grid.row
        key_cells = self.grid.columns[self.row_col]
        plain = 0  # data rows whose code is plain digits
        lengths: set[int] = set()  # of the plain codes: a number in a totals row's code column stands out
        for r in range(self.header.data_start, self.grid.height):
            key_cell = key_cells[r]
            # The common case first: a school code written as plain digits.
            if self.row_is_code and key_cell and len(key_cell) <= 20 and key_cell.isascii() and key_cell.isdigit():
                data_rows.append(r)
                plain += 1
                lengths.add(len(key_cell))
                continue
            kind = self._classify(r, row(r))
            if kind == "data":
                data_rows.append(r)
            elif kind == "totals":
                totals_rows.append(r)
            elif kind == "sums":
                self.sum_rows.append(r)
            elif kind == "second_table":
                self.owner._add(
                    "error",
                    "unexpected_layout",
                    f"Trang tính '{self.grid.name}' có một bảng thứ hai bắt đầu ở dòng {r + 1}; "
                    f"mỗi trang chỉ được có một bảng. Các dòng từ dòng {r + 1} chưa được đọc.",
                    sheet=self.grid.name,
                    row=r + 1,
                )
                break
        # Codes all plain and of one length (the common case): no totals row among them, whose number in the
        # code column (of schools, the district's code) is shorter than a school's code.
        mixed = len(lengths) > 1 or plain < len(data_rows)
        labelled = self._labelled_totals(data_rows) if self.row_is_code and mixed else []
        if labelled:
            # `Tổng cộng` beside a number in the code column
            taken = set(labelled)
            data_rows[:] = [r for r in data_rows if r not in taken]
            # the rows the loop above counted as plain codes (the same test as its first branch)
            plain -= sum(1 for r in labelled if (cell := key_cells[r]) and len(cell) <= 20 and cell.isascii()
                         and cell.isdigit())
            totals_rows.extend(labelled)
            totals_rows.sort()
        self.plain_codes = plain == len(data_rows)
        errors = self.grid.errors
        in_data = set(data_rows) if errors else set()
        self.error_columns = {c for (r, c) in errors if r in in_data}
        if data_rows:
            self.counts = [
                column
                for column in self.specs
                if column.type == "int" and self.by_key[column.key] not in self.error_columns
            ]
            if len(self.grid.columns) > len(self.header.labels):  # some column has no header text
                self._report_unlabelled_columns(data_rows)

    def _report_unlabelled_columns(self, data_rows: list[int]) -> None:
        """A column without header text (the second cell of a merged label, a column added without a title)
        that holds something in the school rows: it is not read, so say so, as for every ignored column."""
        for c, cells in enumerate(self.grid.columns):
            if c in self.header.labels:
                continue
            filled = [r for r in data_rows if not is_blank(cells[r])]
            if not filled:
                continue  # a spacer column
            letter = self.grid.letter(c)
            rows = ", ".join(str(r + 1) for r in filled[:5]) + (", …" if len(filled) > 5 else "")
            self.owner._add(
                "info",
                "ignored_column",
                f"Cột {letter} không có tên cột nhưng có dữ liệu ở {len(filled)} dòng (dòng {rows}), đã bỏ qua; "
                f"nếu đó là số liệu của biểu mẫu, hãy ghi tên cột như trong mẫu.",
                sheet=self.grid.name,
                row=self.header.first_row + 1,
                value=_clip(cells[filled[0]]),
            )

    # -- row classification

    def _labelled_totals(self, data_rows: list[int]) -> list[int]:
        """The rows taken for data rows by their code that hold a totals label: the totals row with a number in
        its code column (the number of schools, the district's code). The label is looked for in the free-text
        template columns (the school's name) and the columns the template does not define (STT, notes); in an
        enumeration or count column it is read, and reported, as that column's value."""
        other = {self.row_col} | {self.by_key[column.key] for column in self.specs if column.type != "text"}
        columns = [cells for c, cells in enumerate(self.grid.columns) if c not in other]
        is_totals_label = self.owner.is_totals_label
        return [r for r in data_rows if any(is_totals_label(cells[r]) for cells in columns)]

    def _classify(self, r: int, row: tuple[str | None, ...]) -> str:
        """`data`, `totals`, `second_table` or `other` (blank, notes and unlabelled rows are reported here)."""
        key_cell = row[self.row_col]
        if not is_blank(key_cell):
            if self.row_is_code:
                code = parse_code(key_cell)
                if (
                    code is not None
                    and _CODE_SHAPE.fullmatch(code)
                    and not (code[0].isalpha() and self.owner.is_totals_label(code))
                ):
                    return "data"
            elif not self.owner.is_totals_label(key_cell) and self._has_row_values(r, row):
                return "data"
        is_totals_label = self.owner.is_totals_label
        if any(is_totals_label(cell) for cell in row if cell is not None):
            return "totals"  # a totals label is never blank nor a row number: the row is filled
        errors = self.grid.errors
        filled = [
            c
            for c, cell in enumerate(row)
            if (not is_blank(cell) or (r, c) in errors) and not (c in self.stt and _is_stt_cell(cell))
        ]
        if not filled:
            return "blank"
        if self._is_repeated_header(row):
            return "second_table"
        numeric = [c for c in filled if c not in self.ignored and ((r, c) in errors or _looks_numeric(row[c]))]
        if (numeric and self.row_is_code and (is_blank(key_cell) or not _mostly_digits(key_cell))
                and not any((r, c) in errors for c in numeric)):
            return "sums"  # a group's subtotal, or else unlabelled: told once the schools' numbers are typed
        if numeric:
            for c in numeric:
                if (r, c) in errors:
                    self.owner._formula_error(self.grid, r, c, self._column_at(c))
            self._unlabelled(r, row)
        else:
            text = " | ".join(row[c] or "" for c in filled)
            self.owner._add(
                "info",
                "ignored_row",
                f"Dòng {r + 1} của trang '{self.grid.name}' chỉ có chữ (ghi chú, chữ ký...), đã bỏ qua.",
                sheet=self.grid.name,
                row=r + 1,
                value=_clip(text),
            )
        return "other"

    def _unlabelled(self, r: int, row: tuple[str | None, ...]) -> None:
        """`unlabelled_row` (error): row r holds numbers but no key, and is neither a totals row nor a group's sums."""
        key_cell = row[self.row_col]
        what = "mã trường" if self.row_is_code else f"'{_column(self.spec, self.spec.row_key).label_vi}'"
        if self.row_is_code and not is_blank(key_cell) and _mostly_digits(key_cell):
            # a code is written, but not as a code (a space or a stray sign inside): say so, not "no code"
            problem = (f"mã trường '{_clip(key_cell, 40)}' không đúng dạng mã (chữ số, chữ cái và . _ / -, "
                       f"không có khoảng trắng); hãy sửa mã trường")
        elif self.row_is_code and (label := self._row_label(row)) and self.owner.starts_with_totals_word(label):
            # `Cộng cụm 1` whose numbers are no run of schools' sums: a slip in the sums, or a school left out
            problem = (f"không có mã trường; nếu là dòng cộng của một nhóm trường ('{_clip(label, 40)}') thì số "
                       f"liệu không bằng tổng các trường liền trên hoặc liền dưới nó; hãy sửa số liệu hoặc xoá dòng")
        else:
            problem = f"không có {what} và không phải dòng tổng cộng; hãy ghi {what} hoặc xoá dòng"
        self.owner._add(
            "error",
            "unlabelled_row",
            f"Dòng {r + 1} của trang '{self.grid.name}' có số liệu nhưng {problem}.",
            sheet=self.grid.name,
            row=r + 1,
            key=self.spec.row_key,
            value=_clip(key_cell),
        )

    def _has_row_values(self, r: int, row: tuple[str | None, ...]) -> bool:
        """A row keyed by text (a course) is data when it carries a number or a valid enumeration value.

        A signature line under the table ("Người lập biểu ... Thủ trưởng đơn vị") has text in the key
        column and maybe in another one, but neither. A number followed by its unit (`30 người`, `12,5
        triệu`) in a number column is a number too: the course is read, and the cell reported, not the row
        dropped as a note.
        """
        for key, c in self.by_key.items():
            if c == self.row_col:
                continue
            cell = row[c]
            if (r, c) in self.grid.errors:
                return True
            kind = _column(self.spec, key).type
            if kind in ("int", "decimal") and (_looks_numeric(cell) or _starts_with_number(cell)):
                return True
            if kind == "enum" and not is_blank(cell):
                try:
                    parse_enum(cell, self.owner.layout.enums[key])
                    return True
                except InvalidValue:
                    continue
        return False

    def _is_repeated_header(self, row: tuple[str | None, ...]) -> bool:
        matcher = _matcher(self.spec)
        hits = {key for cell in row if (key := matcher.match(cell))}
        return len(hits) >= 2 and len(hits) * 2 >= len(self.by_key)

    def _column_at(self, c: int) -> ColumnSpec | None:
        key = next((k for k, col in self.by_key.items() if col == c), None)
        return _column(self.spec, key) if key else None

    # -- data rows

    def _read_values(self, data_rows: list[int]) -> None:
        """Every template column of the data rows that `_type_counts` did not type, column by column."""
        error_columns = self.error_columns
        first = data_rows[0] if data_rows else 0
        contiguous = bool(data_rows) and data_rows[-1] - first + 1 == len(data_rows)
        for column in self.specs:
            if isinstance(self.values[column.key], np.ndarray):
                continue
            c = self.by_key[column.key]
            source = self.grid.columns[c]
            cells = source[first : first + len(data_rows)] if contiguous else [source[r] for r in data_rows]
            if None in cells:
                self.owner.suspect_sheets.add(self.grid.name)
            if c == self.row_col and self.plain_codes:
                self.values[column.key] = cells  # what `_fast_column` gives: `scan` checked every cell
                continue
            if c not in error_columns and column.type != "int":  # counts: the block above was the fast path
                fast = self._fast_column(cells, column)
                if fast is not None:
                    self.values[column.key] = fast
                    continue
            self.values[column.key] = [
                self._cell_value(r, c, cell, column) for r, cell in zip(data_rows, cells, strict=True)
            ]
        for key, width in self.owner.layout.code_widths.items():
            if key in self.by_key and isinstance(self.values.get(key), list):
                self.values[key] = self._zeros_restored(self.values[key], data_rows, self.by_key[key], width)

    def _zeros_restored(self, codes: list[Any], data_rows: list[int], c: int, width: int) -> list[Any]:
        """The codes with the leading zeros a number cell lost (`restore_leading_zeros`); a code typed as text
        is kept as written. The sheet's XML is opened only when some code is shorter than its width."""
        if all(code is None or len(code) >= width for code in codes):
            return codes
        return [restore_leading_zeros(code, width) if code is not None and self._is_number(r, c) else code
                for r, code in zip(data_rows, codes, strict=True)]

    def _fast_column(self, cells: list[str | None], column: ColumnSpec) -> list[Any] | None:
        """The column's values when every cell is in its common, unambiguous form; else None.

        Counts: plain digits or empty. Codes: plain digits. Texts: no stray whitespace. Enumerations
        and flags: each distinct spelling parsed once (they repeat on every row), all valid.
        """
        kind = column.type
        if kind == "code":
            joined = "".join(filter(None, cells))
            plain = None not in cells and "" not in cells and joined.isascii() and joined.isdigit()
            return cells if plain else None
        if kind == "text":
            # No whitespace a text cell should not keep (at either end, doubled, line breaks, tabs,
            # no-break spaces): splitting and joining on whitespace changes nothing, and no cell starts
            # or ends with a space.
            joined = "\x00".join(filter(None, cells))
            plain = (
                "" not in cells
                and " ".join(joined.split()) == joined
                and " \x00" not in joined
                and "\x00 " not in joined
            )
            return cells if plain else None
        if kind in ("enum", "flag"):
            spelling = _layout_memo(self.owner.layout).spelling
            try:
                memo = {v: spelling(column.key, kind, v) for v in set(cells)}
            except InvalidValue:
                return None
            return [memo[v] for v in cells]
        return None

    def _cell_value(self, r: int, c: int, cell: str | None, column: ColumnSpec) -> Any:
        if (r, c) in self.grid.errors:
            self.owner._formula_error(self.grid, r, c, column)
            self.bad[column.key] = True
            return None
        if cell is None:
            self.owner.suspect_sheets.add(self.grid.name)
        if column.type == "int" and is_blank(cell):
            return 0
        return self._parse_table_cell(r, c, cell, column)

    def _parse_table_cell(self, r: int, c: int, cell: str | None, column: ColumnSpec) -> Any:
        kind = column.type
        if kind == "decimal" and is_blank(cell):
            return None  # no amount given: left empty, not invented as 0
        if kind in ("text", "code", "date") and is_blank(cell):
            return None
        try:
            value = self.owner._parse_cell(cell, column, is_number=kind == "decimal" and self._is_number(r, c))
        except (NotANumber, InvalidValue) as exc:
            self.owner._bad_value(self.grid.name, r, column, cell, exc)
            self.bad[column.key] = True
            return None
        if kind in ("int", "decimal") and value < 0:
            self.owner._negative(self.grid.name, r, column, cell)
            self.bad[column.key] = True  # its column's sum against the totals row would repeat the finding
        return value

    def _is_number(self, r: int, c: int) -> bool:
        if c not in self._number_rows:
            self._number_rows[c] = self.grid.number_rows(c)
        return r in self._number_rows[c]

    # -- totals rows and groups' sums

    def settle_totals(self) -> None:
        """The totals row checked against the column sums, and every other row of sums told apart.

        Clerks split the schools into sections (`I. Công lập`, `Cụm 1`) with a row of sums under or over
        each (`Cộng cụm 1`, `Tổng công lập`, or a section's own `Cộng`) besides the sheet's `Tổng cộng`.
        Of several totals rows, the sheet's is the one equal to the column sums, else the largest; the
        others, and the rows without a code holding numbers, are a group's sums when they equal the sum of
        a run of schools right above or below them (reported as info: each school is read in its own row, so
        nothing is counted twice or lost). A totals row that is no such sum is a warning; an unlabelled row
        still an error (its numbers may be a school's whose code is missing).
        """
        if not self.totals_rows and not self.sum_rows:
            return
        written = {r: self._read_totals_row(r, self.grid.row(r)) for r in self.totals_rows}
        runs = _RunSums(self) if len(self.totals_rows) > 1 or self.sum_rows else None
        grand = self._grand_total(written, runs)
        if grand is not None:
            self.totals = (grand, written[grand])
            self.owner.result.totals[self.spec.name] = {"row": grand + 1, "values": written[grand]}
            self._check_totals(grand, written[grand])
        for r in self.totals_rows:
            if r != grand and runs is not None:
                self._other_totals_row(r, written[r], grand, runs)
        for r in self.sum_rows:
            self._sums_row(r, runs or _RunSums(self))

    def _grand_total(self, written: dict[int, dict[str, Any]], runs: _RunSums | None) -> int | None:
        """The sheet's totals row: the only one, else the first equal to the column sums, else the largest."""
        if len(written) <= 1 or runs is None:
            return next(iter(written), None)
        for r, values in written.items():
            if runs.equals_all(values):
                return r
        return max(written, key=lambda r: sum(abs(v) for v in written[r].values()))

    def _other_totals_row(self, r: int, values: dict[str, Any], grand: int | None, runs: _RunSums) -> None:
        run = runs.matching_run(r, values, shortest=1)
        if run is not None:
            self._group_sums(r, run)
            return
        self.owner._add(
            "warning",
            "ignored_row",
            f"Dòng {r + 1} của trang '{self.grid.name}' là một dòng tổng nữa nhưng không bằng tổng của nhóm "
            f"dòng nào liền trên hoặc liền dưới nó; dòng tổng cộng được đối chiếu là dòng {(grand or 0) + 1}. "
            f"Hãy kiểm tra lại dòng {r + 1}.",
            sheet=self.grid.name,
            row=r + 1,
            value=_clip(self._row_label(self.grid.row(r))),
        )

    def _sums_row(self, r: int, runs: _RunSums) -> None:
        """A row without a code holding numbers: a group's sums, or `unlabelled_row`."""
        row = self.grid.row(r)
        values: dict[str, Any] = {}
        for column in self.specs:
            if column.type != "int":
                continue
            cell = row[self.by_key[column.key]]
            try:
                values[column.key] = 0 if is_blank(cell) else parse_count(cell)
            except NotANumber:
                self._unlabelled(r, row)
                return
        label = self._row_label(row)
        # a run of one school is a section's sum only when the row says it sums (`Cộng ...`, `Tổng ...`)
        shortest = 1 if label is not None and self.owner.starts_with_totals_word(label) else 2
        run = runs.matching_run(r, values, shortest=shortest)
        if run is None:
            self._unlabelled(r, row)
        else:
            self._group_sums(r, run)

    def _group_sums(self, r: int, run: tuple[int, int]) -> None:
        first, last = run
        lines = f"dòng {first + 1}" if first == last else f"các dòng {first + 1}–{last + 1}"
        self.owner._add(
            "info",
            "ignored_row",
            f"Dòng {r + 1} của trang '{self.grid.name}' là dòng cộng của {lines} (bằng tổng các dòng đó), "
            f"đã bỏ qua: số liệu được lấy từ dòng của từng trường.",
            sheet=self.grid.name,
            row=r + 1,
            value=_clip(self._row_label(self.grid.row(r))),
        )

    def _row_label(self, row: tuple[str | None, ...]) -> str | None:
        """The first text of a row that is no number (`Cộng cụm 1`), for messages."""
        return next((cell.strip() for cell in row if not is_blank(cell) and not _looks_numeric(cell)), None)

    def _read_totals_row(self, r: int, row: tuple[str | None, ...]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column in self.specs:
            if column.type not in ("int", "decimal"):
                continue
            c = self.by_key[column.key]
            if (r, c) in self.grid.errors:
                self.owner._formula_error(self.grid, r, c, column)
                continue
            cell = row[c]
            if is_blank(cell):
                if cell is None:
                    self.owner.suspect_sheets.add(self.grid.name)
                continue
            try:
                if column.type == "int" and len(cell) <= 18 and cell.isdigit() and cell.isascii():
                    values[column.key] = int(cell)  # what parse_count gives for plain digits
                elif column.type == "int":
                    values[column.key] = parse_count(cell)
                else:
                    values[column.key] = parse_decimal(_stored_number(cell) if self._is_number(r, c) else cell)
            except NotANumber:
                self.owner._add(
                    "warning",
                    "not_a_number",
                    f"Dòng tổng cộng (dòng {r + 1}), cột '{column.label_vi}': giá trị '{cell}' "
                    f"không phải số nên không đối chiếu được.",
                    sheet=self.grid.name,
                    row=r + 1,
                    key=column.key,
                    value=cell,
                )
        return values

    def _check_totals(self, r: int, written_values: dict[str, Any]) -> None:
        for key, written in written_values.items():
            cells = self.values[key]
            if key in self.sums:
                total = self.sums[key]
            elif self.bad.get(key) or (not isinstance(cells, np.ndarray) and None in cells):
                continue  # an unreadable cell already has its finding; the sum would mean nothing
            else:
                total = sum(cells.tolist() if isinstance(cells, np.ndarray) else cells)
            if abs(total - written) < 1e-6 * max(1.0, abs(total)):
                continue
            label = _column(self.spec, key).label_vi
            shown = total if isinstance(total, int) else round(total, 6)
            self.owner._add(
                "warning",
                "totals_row_mismatch",
                f"Dòng tổng cộng (dòng {r + 1}), cột '{label}': ghi {written} nhưng tổng các dòng là {shown}.",
                sheet=self.grid.name,
                row=r + 1,
                key=key,
                value=self.grid.row(r)[self.by_key[key]],
            )


class _RunSums:
    """The count columns of a table's data rows as running sums, to tell whether a row of sums is the sum of a
    run of consecutive schools (`matching_run`) or of all of them (`equals_all`). Columns with an unread cell
    are left out: their sums mean nothing."""

    def __init__(self, reader: _TableReader) -> None:
        self.rows = reader.data_rows
        keys, columns = [], []
        for column in reader.specs:
            cells = reader.values.get(column.key)
            if column.type != "int" or cells is None or (not isinstance(cells, np.ndarray) and None in cells):
                continue
            keys.append(column.key)
            columns.append(np.asarray(cells, dtype=np.int64))
        self.keys = {key: i for i, key in enumerate(keys)}
        matrix = np.column_stack(columns) if columns else np.zeros((len(self.rows), 0), dtype=np.int64)
        self.prefix = np.vstack([np.zeros((1, len(keys)), dtype=np.int64), np.cumsum(matrix, axis=0)])

    def _wanted(self, values: dict[str, Any]) -> tuple[list[int], np.ndarray] | None:
        """The columns compared and the values written in them; None when nothing non-zero is written."""
        pairs = [(self.keys[key], value) for key, value in values.items()
                 if key in self.keys and isinstance(value, int)]
        if not pairs or not any(value for _, value in pairs):
            return None
        return [i for i, _ in pairs], np.array([value for _, value in pairs], dtype=np.int64)

    def equals_all(self, values: dict[str, Any]) -> bool:
        wanted = self._wanted(values)
        return wanted is not None and bool((self.prefix[-1, wanted[0]] == wanted[1]).all())

    def matching_run(self, r: int, values: dict[str, Any], *, shortest: int) -> tuple[int, int] | None:
        """The first and last grid rows of the shortest run of at least `shortest` consecutive data rows ending
        right above row r (else starting right below it) whose sums are `values` in every column compared."""
        wanted = self._wanted(values)
        if wanted is None:
            return None
        columns, target = wanted
        p = bisect.bisect_left(self.rows, r)
        starts = self.prefix[: max(0, p - shortest + 1), columns]
        above = np.flatnonzero((self.prefix[p, columns] - starts == target).all(axis=1))
        if len(above):
            return self.rows[int(above[-1])], self.rows[p - 1]
        ends = self.prefix[p + shortest :, columns]
        below = np.flatnonzero((ends - self.prefix[p, columns] == target).all(axis=1))
        if len(below):
            return self.rows[p], self.rows[p + shortest + int(below[0]) - 1]
        return None


_TEXT_TYPES = ("code", "text", "enum")
_INTEGER_TYPES = ("int", "flag")


def _finish_tables(pending: list[tuple[_TableReader | None, list[Finding]]]) -> None:
    """Type the cells and check the totals rows of one workbook's tables read so far; each table's
    findings go to its own list."""
    readers = [reader for reader, _ in pending if reader is not None]
    _type_counts(readers)
    for reader, found in pending:
        if reader is not None:
            reader.owner.findings = found
            reader._read_values(reader.data_rows)
            reader.settle_totals()
    for reader in readers:
        reader.owner.findings = reader.owner.result.findings


def _stack_tables(readers: list[_TableReader]) -> None:
    """Per sheet, one frame of the data rows of every reader in turn; each workbook's table is a view of
    its rows (`TableView`). The text columns of every sheet come from one conversion to Arrow."""
    groups: dict[str, list[_TableReader]] = {}
    for reader in readers:
        groups.setdefault(reader.spec.name, []).append(reader)
    sheets = []
    text_cells: list[Any] = []
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for name, group in groups.items():
        columns = [column for column in _sheet_columns(group) if any(column.key in r.values for r in group)]
        sheets.append((name, group, columns))
        for column in columns:
            if column.type in _TEXT_TYPES:
                start = len(text_cells)
                for reader in group:
                    cells = reader.values.get(column.key)
                    text_cells.extend(cells if cells is not None else [None] * len(reader.data_rows))
                spans[(name, column.key)] = (start, len(text_cells))
    flat = pa.array(text_cells, pa.large_string())
    views: dict[int, TableView] = {}
    nullable = {id(reader): _nullable(reader) for reader in readers}
    for name, group, columns in sheets:
        texts = {key: flat.slice(a, b - a) for (sheet, key), (a, b) in spans.items() if sheet == name}
        stack, arrays = _stacked_frame(group, columns, texts, nullable)
        start = 0
        for reader in group:
            stop = start + len(reader.data_rows)
            keys = tuple(column.key for column in reader.specs)
            views[id(reader)] = TableView(stack, start, stop, _frame_columns(keys), nullable[id(reader)], arrays)
            start = stop
    for reader in readers:  # in each workbook's sheet order
        reader.owner.result.tables.add_view(reader.spec.name, views[id(reader)])


def _sheet_columns(group: list[_TableReader]) -> tuple[ColumnSpec, ...]:
    """The columns of a sheet's readers: their layout's, or, when files of several template versions were
    read together, every version's (a column of one version only is NA in the others' rows)."""
    first = group[0].spec
    if all(reader.spec is first for reader in group):
        return first.columns
    columns = {column.key: column for reader in group for column in reader.spec.columns}
    return tuple(columns.values())


def _nullable(reader: _TableReader) -> frozenset[str]:
    """The reader's count and flag columns with an unread cell (None)."""
    typed = {column.key for column in reader.counts} if reader.count_block is not None else ()
    return frozenset(column.key for column in reader.specs if column.type in _INTEGER_TYPES
                     and column.key not in typed and not isinstance(cells := reader.values[column.key], np.ndarray)
                     and None in cells)


def _stacked_frame(
    group: list[_TableReader], columns: list[ColumnSpec], texts: dict[str, pa.Array],
    nullable: dict[int, frozenset[str]],
) -> tuple[pd.DataFrame, StackArrays]:
    """One column per template key found in some reader's sheet, then `_row` (see `ParsedWorkbook`), and
    the arrays it is assembled from (`StackArrays`: the frame shares them; the block and decimals are
    read-only). `texts`: the text columns, as Arrow.

    Counts and flags are int64 when every reader has the column and read every cell of it, else
    nullable Int64 (NA where a cell was unreadable or a reader lacks the column); decimals float64,
    dates object, the rest str. The complete integer columns and `_row` form one 2-D int64 block,
    filled a workbook at a time from the block `_type_counts` typed, and the frame is assembled from
    its blocks, with no per-column conversion or check.
    """
    lengths = [len(reader.data_rows) for reader in group]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    total = offsets[-1]
    integers = [column for column in columns if column.type in _INTEGER_TYPES
                and all(column.key in reader.values and column.key not in nullable[id(reader)] for reader in group)]
    row_of = {column.key: i for i, column in enumerate(integers)}
    block = np.empty((len(integers) + 1, total), dtype=np.int64)
    for reader, start, stop in zip(group, offsets, offsets[1:], strict=False):
        done = set()
        if reader.count_block is not None:
            keys = [column.key for column in reader.counts]
            if all(key in row_of for key in keys):
                block[[row_of[key] for key in keys], start:stop] = reader.count_block
                done.update(keys)
        for column in integers:
            if column.key not in done:
                block[row_of[column.key], start:stop] = reader.values[column.key]
        block[-1, start:stop] = reader.data_rows
    block[-1] += 1  # Excel rows are 1-based
    blocks: list[tuple[Any, np.ndarray]] = []
    floats: dict[str, np.ndarray] = {}
    placement = [0] * (len(integers) + 1)
    for i, column in enumerate(columns):
        if column.key in row_of:
            placement[row_of[column.key]] = i
            continue
        parts = [reader.values.get(column.key) for reader in group]
        kind = column.type
        if kind in _INTEGER_TYPES:
            values = np.zeros(total, dtype=np.int64)
            mask = np.zeros(total, dtype=bool)
            for cells, start, stop in zip(parts, offsets, offsets[1:], strict=False):
                if cells is None:
                    mask[start:stop] = True
                elif isinstance(cells, np.ndarray):
                    values[start:stop] = cells
                else:
                    values[start:stop] = [0 if v is None else v for v in cells]
                    mask[start:stop] = [v is None for v in cells]
            array: Any = IntegerArray(values, mask)
        elif kind == "decimal":
            array = np.array([np.nan if v is None else v for cells, n in zip(parts, lengths, strict=True)
                              for v in (cells if cells is not None else [None] * n)],
                             dtype=np.float64).reshape(1, total)
            array.flags.writeable = False  # shared with StackArrays, as the block
            floats[column.key] = array[0]
        elif kind == "date":
            array = np.empty((1, total), dtype=object)
            array[0, :] = [v for cells, n in zip(parts, lengths, strict=True)
                           for v in (cells if cells is not None else [None] * n)]
        else:
            array = ArrowStringArray(texts[column.key], dtype=_STR)
        blocks.append((array, np.array([i], dtype=np.intp)))
    placement[-1] = len(columns)
    blocks.append((block, np.array(placement, dtype=np.intp)))
    frame_columns = _frame_columns(tuple(column.key for column in columns))
    block.flags.writeable = False  # shared with StackArrays: pandas copies on write, nothing writes it
    frame = create_dataframe_from_blocks(blocks, index=pd.RangeIndex(total), columns=frame_columns)
    return frame, StackArrays({**row_of, ROW_NUMBER: len(integers)}, block, texts, floats, frozenset(frame_columns))


@cache
def _frame_columns(keys: tuple[str, ...]) -> pd.Index:
    """The columns of a table frame (an Index is immutable: one object serves every frame of the layout)."""
    return pd.Index([*keys, ROW_NUMBER])


def _type_counts(readers: list[_TableReader]) -> None:
    """The count columns whose data cells are all empty or plain ASCII digits, typed in one go.

    The cells of every such column over the data rows of every sheet are taken from the workbook's
    Arrow array at once and typed by `_digit_counts` when every one of them is plain (the common case),
    else checked per column on the raw buffers (ASCII digits only, 1 to 9 of them: no sign, space,
    separator or overflow; `_plain_counts`) and cast, an empty cell being 0: the values `parse_count`
    gives for those cells, without a Python object per cell. A column with any other cell is left to
    its reader (typed cell by cell, with its findings). Small array operations cost mostly their
    fixed overhead, hence few of them for the whole workbook rather than some per sheet or column.
    """
    readers = [reader for reader in readers if reader.counts]
    if not readers:
        return
    # One segment of cells per (sheet, count column): its cells over the sheet's data rows.
    segments: list[int] = []  # where each segment starts in `cells`
    pieces: list[pa.Array] = []  # the cells of each segment, or of each sheet's segments at once
    position = 0
    for reader in readers:
        grid, rows = reader.grid, reader.data_rows
        if rows[-1] - rows[0] + 1 == len(rows):
            # the sheet's data rows follow each other: zero-copy slices (no index array to build)
            for column in reader.counts:
                pieces.append(grid.flat.slice(grid.base + reader.by_key[column.key] * grid.height + rows[0], len(rows)))
        else:
            pieces.append(grid.flat.take(pa.array(_cell_indices(reader))))
        for _ in reader.counts:
            segments.append(position)
            position += len(rows)
    cells = pa.concat_arrays(pieces)
    if cells.null_count:  # some count cell read as empty: in which sheets (_WorkbookReader.suspect_sheets)
        segment = 0
        for reader in readers:
            if cells.slice(segments[segment], len(reader.counts) * len(reader.data_rows)).null_count:
                reader.owner.suspect_sheets.add(reader.grid.name)
            segment += len(reader.counts)
    values = _digit_counts(cells)
    if values is not None:  # every cell plain; at most MAX_COUNT (2**31) over at most 2**21 rows: no overflow
        complete = [True] * len(segments)
        sums = np.add.reduceat(values, segments, dtype=np.int64).tolist()
    else:
        complete, values, sums = _plain_counts(cells, segments, max(len(reader.data_rows) for reader in readers))
    segment = 0
    for reader in readers:
        count, rows = len(reader.counts), len(reader.data_rows)
        start = segments[segment]
        block = values[start : start + count * rows].reshape(count, rows)
        if all(complete[segment : segment + count]):
            reader.count_block = block
        for i, column in enumerate(reader.counts):
            if complete[segment + i]:
                reader.values[column.key] = block[i]
                if sums is not None:
                    reader.sums[column.key] = sums[segment + i]
        segment += count


def _plain_counts(
    cells: pa.Array, segments: list[int], longest: int
) -> tuple[list[bool], np.ndarray, list[int] | None]:
    """Per segment whether every cell is plain (`_plain_digit_cells`); the cells as int64 (0 where not
    plain or empty); the segments' sums (None when some could overflow: `longest` is the most rows)."""
    plain, valid = _plain_digit_cells(cells)
    complete = np.logical_and.reduceat(plain, segments).tolist()  # per segment: every cell plain
    if not all(complete):
        cells = pc.if_else(pa.array(plain), cells, pa.scalar(None, pa.string()))
        valid = plain if valid is None else valid & plain
    numbers = pc.cast(cells, pa.int64())
    values = np.frombuffer(numbers.buffers()[1], dtype=np.int64, count=len(numbers), offset=numbers.offset * 8)
    if valid is not None:
        values = np.where(valid, values, 0)  # a null slot's value is undefined: 0
    sums = np.add.reduceat(values, segments).tolist() if int(values.max()) * longest <= _MAX_INT64 else None
    return complete, values, sums


# normalize.MAX_COUNT is int32's largest value: a checked cast to int32 fails exactly on the counts too large
_TO_COUNTS = pc.CastOptions.safe(pa.int32())


def _digit_counts(cells: pa.Array) -> np.ndarray | None:
    """The cells' values (int32, 0 where empty) when every one is empty or ASCII digits worth at most
    MAX_COUNT: what `parse_count` gives for each of them, leading zeros and all; else None.

    The common case in few calls (each numpy or Arrow call is cold after fastexcel): one test of the
    character buffer, one checked cast. An empty string, a digit run too long for int32 or a larger
    count fails the cast; the caller then types the cells as `_plain_counts` does.
    """
    _, offsets, chars = cells.buffers()
    if chars is None:
        return None
    bounds = memoryview(offsets).cast("i")
    if not memoryview(chars)[bounds[cells.offset] : bounds[cells.offset + len(cells)]].tobytes().isdigit():
        return None  # some cell holds something else than ASCII digits (a sign, a space, a separator...)
    try:
        numbers = pc.call_function("cast", [cells], _TO_COUNTS)
    except pa.ArrowInvalid:
        return None
    values = np.frombuffer(numbers.buffers()[1], dtype=np.int32, count=len(numbers), offset=numbers.offset * 4)
    if cells.null_count:
        values = np.where(_valid(cells), values, 0)  # a null slot's value is undefined: 0
    return values


def _cell_indices(reader: _TableReader) -> np.ndarray:
    """Indices in the workbook's Arrow array of a sheet's count cells, column after column."""
    grid = reader.grid
    columns = np.array([reader.by_key[column.key] for column in reader.counts], dtype=np.int64)
    return np.add.outer(columns * grid.height + grid.base, np.array(reader.data_rows, dtype=np.int64)).ravel()


def _plain_digit_cells(cells: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """Per cell of a string array: empty (null) or 1 to 9 ASCII digits; and not null (None: none is)."""
    count = len(cells)
    _, offsets, chars = cells.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32, count=cells.offset + count + 1)[cells.offset :]
    lengths = np.diff(bounds)
    # 1 to 9 characters (0 - 1 wraps round): below 10**9, within normalize.MAX_COUNT; longer digit runs
    # (leading zeros, or a count too large to store) are typed cell by cell by parse_count
    short = (lengths - 1).view(np.uint32) <= 8
    valid = _valid(cells) if cells.null_count else None
    text = memoryview(chars)[bounds[0] : bounds[-1]].tobytes() if chars is not None else b""
    if text and not text.isdigit():  # some cell holds something else than ASCII digits: cell by cell
        short &= pc.ascii_is_decimal(cells).fill_null(False).to_numpy(zero_copy_only=False)
    return (short if valid is None else short | ~valid), valid


def _valid(cells: pa.Array) -> np.ndarray:
    """Per cell of an array with nulls: not null."""
    bits = np.unpackbits(np.frombuffer(cells.buffers()[0], dtype=np.uint8), count=cells.offset + len(cells),
                         bitorder="little")
    return bits[cells.offset :].view(bool)


_CALAMINE_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?")


def _date_formatted_number(cell: Any) -> str | None:
    """The number stored in a cell that calamine turned into a date because of its date format (its text
    is `YYYY-MM-DD HH:MM:SS`), written as Excel would show it with a number format; else None."""
    if not isinstance(cell, str) or not _CALAMINE_DATETIME.fullmatch(cell):
        return None
    try:
        days = excel_serial(dt.datetime.fromisoformat(cell))
    except ValueError:
        return None
    return str(int(days)) if days == int(days) else f"{days:.6f}".rstrip("0").replace(".", ",")


def _stored_number(cell: str) -> float:
    """A cell stored as a number, from calamine's text of it. A number in a date-formatted cell comes as
    the date Excel shows: NotANumber (reported with the number, see `_bad_value`), not a guess."""
    try:
        return float(cell)
    except ValueError:
        raise NotANumber(f"not a number: {cell!r}") from None


def _mostly_digits(text: str) -> bool:
    """At least half of the text's non-space characters are digits: a code mistyped, not words."""
    compact = "".join(text.split())
    return bool(compact) and sum(ch.isdigit() for ch in compact) * 2 >= len(compact)


def _compact_words(text: str) -> list[str]:
    """The words of a text, its punctuation and brackets dropped."""
    return "".join(ch if ch.isalnum() else " " for ch in text).split()


def _looks_numeric(cell: str | None) -> bool:
    """A cell that carries a quantity: a number as text in any of the accepted spellings."""
    if is_blank(cell):
        return False
    try:
        parse_decimal(cell)
    except NotANumber:
        return False
    return True


def _starts_with_number(cell: str | None) -> bool:
    """A cell whose first word is a number (`30 người`, `12,5 triệu`); not a date (`16/06/2020`)."""
    words = cell.split(maxsplit=1) if cell else []
    return len(words) == 2 and words[0][:1].isdigit() and _looks_numeric(words[0])


def _is_stt_cell(cell: str | None) -> bool:
    """A row-number cell (`1`, `12.`): content of the STT column that carries no data."""
    return cell is None or cell.strip().rstrip(".").isdigit()


_COMMA_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_NUMBER_WITH_UNIT = re.compile(r"(\d+)\s*[^\W\d_][\w\s.]*")
_RANGE = re.compile(r"\d+\s*[-–—]\s*\d+")


def _count_hint(cell: str) -> str:
    """What to write instead, for the count cells clerks commonly write otherwise (appended to not_a_number)."""
    text = cell.strip()
    if _COMMA_THOUSANDS.fullmatch(text):
        digits = text.replace(",", "")
        return (f"; dấu phẩy là dấu thập phân: nếu là số {digits}, hãy ghi {digits} hoặc "
                f"{text.replace(',', '.')}")
    if text in ("-", "–", "—", "x", "X", "…", "...", "không", "Không", "không có", "Không có"):
        return "; nếu ý là không có (bằng 0), hãy ghi 0"
    if _RANGE.fullmatch(text):
        return "; hãy ghi một số duy nhất"
    unit = _NUMBER_WITH_UNIT.fullmatch(text)
    if unit:
        return f"; chỉ ghi số ({unit[1]}), không ghi đơn vị hay chữ"
    return ""


def _clip(text: str | None, limit: int = 120) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 3] + "..."
