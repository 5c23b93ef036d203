"""Loading into the warehouse: staging rows and findings by COPY, then set-based publishing into core.

Every readable submission's rows go to staging (accepted or not: nothing a district sent is lost);
only accepted ones are published into core, in the same transaction (sql/load/publish*.sql).

The COPY path is built for the nightly batch (chunks of 100 district workbooks): each sheet's rows of the
chunk are taken at once, from the arrays the reader stacked them from (else from the stacked frame), and
written as PostgreSQL COPY text with no per-row Python (text columns by Arrow compute kernels, complete
integer columns in fixed width by numpy); on a large chunk the next table is built while the server parses
the one just sent (docs/performance.md). ThongTin, one row per district, is written in Python.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from etl.layout import Layout, SheetSpec
from etl.migrations import sql_path
from etl.model import ROW_NUMBER, Finding, ParsedWorkbook, StackArrays, stack_tables, stacked_arrays
from etl.warehouse import run_script

TEXT = pa.large_string()
NULL = "\\N"  # COPY text's NULL
NULL_TEXT = pa.scalar(NULL, TEXT)
COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
ISSUE_COLUMNS = ["submission_id", "severity", "rule", "sheet", "row_number", "column_key", "value", "message"]


@dataclass(frozen=True)
class CopyBatch:
    """The rows of one COPY: target table, its columns in the order of `text`, COPY text, row count."""

    table: str
    columns: tuple[str, ...]
    text: memoryview
    rows: int


def _as_text(values: pa.Array) -> pa.Array:
    """One column as COPY text: values cast in C, COPY's special characters escaped, NULL as \\N."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = values if values.type == TEXT else values.cast(TEXT)
        # four memchr scans of the column's characters find the rare column that needs escaping (the reader's
        # text columns are slices of one buffer for a whole chunk: only this slice's bytes are scanned)
        if any(raw.encode() in _characters(values) for raw, _ in COPY_ESCAPES):
            for raw, escaped in COPY_ESCAPES:
                values = pc.replace_substring(values, raw, escaped)
    else:
        values = pc.cast(values, TEXT)
    return pc.fill_null(values, NULL_TEXT) if values.null_count else values


def _characters(values: pa.LargeStringArray) -> bytes:
    """The character bytes of a large-string array (of its slice only, when it is one)."""
    data = values.buffers()[2]
    if data is None or not len(values):
        return b""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64, count=len(values) + 1, offset=8 * values.offset)
    return memoryview(data)[offsets[0]:offsets[-1]].tobytes()


FIXED_WIDTH_LIMIT = 10**18  # magnitudes below it have at most 18 digits: no int64 overflow below
OVERLAP_MIN_ROWS = 1_000  # see copy_batches


@dataclass(frozen=True)
class IntColumn:
    """A complete int64 column (no NULL) that fits the fixed width, with its range (see copy_text)."""

    values: np.ndarray
    low: int
    high: int

    def __len__(self) -> int:
        return len(self.values)

    def __arrow_array__(self, type: pa.DataType | None = None) -> pa.Array:  # noqa: A002 (Arrow's protocol)
        return pa.array(self.values, type=type)


def _fixed_width_int_rows(columns: list[IntColumn]) -> pa.Array:
    """Complete integer columns as the tail of every COPY row: each value zero-padded to its column's
    width (PostgreSQL reads "007" as 7 and "-07" as -7), tab-separated, ended by a newline.

    Every row has the same width, so the text is one (rows x width) byte matrix filled a column at a time
    for all rows at once, with no per-value text at all: a third of the cost of casting each column to text
    and joining them. A column of up to DIGIT_TABLE_WIDTH digits in a table of fewer than
    DIGIT_TABLE_MAX_ROWS rows is looked up in a table of digit strings (one numpy call, not three per
    digit); larger ones are written a digit position at a time (a gather of many rows costs more)."""
    n = len(columns[0].values)
    widths = [len(str(max(column.high, -column.low))) for column in columns]
    signed = [column.low < 0 for column in columns]
    width = sum(widths) + sum(signed) + len(columns)  # digits, signs, one tab or newline per value
    out = np.full((n, width), ord("\t"), dtype=np.uint8)  # every separator at once; the digits overwrite the rest
    position = 0
    for column, digits, sign in zip(columns, widths, signed, strict=True):
        values = magnitude = column.values
        if sign:
            out[:, position] = np.where(values < 0, ord("-"), ord("0"))
            magnitude = np.abs(values)
            position += 1
        if digits == 1:
            out[:, position] = magnitude + ord("0")
        elif digits <= DIGIT_TABLE_WIDTH and n < DIGIT_TABLE_MAX_ROWS:
            out[:, position : position + digits] = _digit_table(digits)[magnitude]
        else:
            rest = magnitude
            for place in range(position + digits - 1, position - 1, -1):  # last digit first
                rest, digit = np.divmod(rest, 10)
                out[:, place] = digit + ord("0")
        position += digits + 1  # past its tab
    out[:, -1] = ord("\n")
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out))


DIGIT_TABLE_WIDTH = 4  # tables of 10, 100, 1,000 and 10,000 rows: 44 kB in all
DIGIT_TABLE_MAX_ROWS = 1_000  # measured: 102 us against 192 us for 25 columns of 227 rows, even at 1,000


@cache
def _digit_table(digits: int) -> np.ndarray:
    """Row v: v in ASCII, zero-padded to `digits` digits (read-only)."""
    table = np.empty((10**digits, digits), dtype=np.uint8)
    rest = np.arange(10**digits)
    for place in range(digits - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        table[:, place] = digit + ord("0")
    table.flags.writeable = False
    return table


def _complete_ints(values: pa.Array | np.ndarray | IntColumn) -> IntColumn | None:
    """The column with its range when it can go in fixed width (int64, no NULL, small enough), else None."""
    if isinstance(values, IntColumn):
        return values
    if isinstance(values, pa.Array):
        if values.type != pa.int64() or values.null_count:
            return None
        values = values.to_numpy(zero_copy_only=True)
    low, high = (int(values.min()), int(values.max())) if len(values) else (0, 0)
    column = _int_column(values, low, high)
    return column if isinstance(column, IntColumn) else None


def _int_column(values: np.ndarray, low: int, high: int) -> IntColumn | np.ndarray:
    """A complete int64 column with its range, or the bare array when it is too wide for fixed width."""
    return IntColumn(values, low, high) if low > -FIXED_WIDTH_LIMIT and high < FIXED_WIDTH_LIMIT else values


def copy_text(
    columns: Mapping[str, pa.Array | np.ndarray | IntColumn] | pd.DataFrame
) -> tuple[tuple[str, ...], memoryview]:
    """Columns (all of one length: Arrow arrays, numpy int64 arrays without NULL, or `IntColumn`s whose
    range is known) in PostgreSQL's COPY text format; returns the column order of the text and the text.

    Built column-wise, no per-row Python: every value becomes text in C (Arrow kernels), NULL becomes
    \\N, and backslash, tab, newline and carriage return in text are escaped as COPY requires. The
    complete integer columns come last, in fixed width (_fixed_width_int_rows). The result is the data
    buffer of one Arrow array: rows joined by tabs, ended by newlines."""
    if isinstance(columns, pd.DataFrame):
        table = pa.Table.from_pandas(columns, preserve_index=False)
        columns = dict(zip(table.column_names, table.columns, strict=True))
    arrays = {k: v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v for k, v in columns.items()}
    ints = {k: column for k, v in arrays.items() if (column := _complete_ints(v)) is not None}
    variable = [k for k in arrays if k not in ints]
    fields = [_as_text(pa.array(arrays[k]) if isinstance(arrays[k], np.ndarray) else arrays[k]) for k in variable]
    if ints:
        tail = _fixed_width_int_rows(list(ints.values()))
        rows = pc.binary_join_element_wise(*fields, tail, pa.scalar("\t", TEXT)) if fields else tail
    else:
        rows = pc.binary_join_element_wise(*fields, pa.scalar("\t", TEXT))
        rows = pc.binary_join_element_wise(rows, pa.scalar("", TEXT), pa.scalar("\n", TEXT))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset: rows.offset + len(rows) + 1]
    return (*variable, *ints), memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]]


def copy_batches(connection: sa.Connection, batches: Iterable[CopyBatch]) -> dict[str, int]:
    """COPY each batch in turn; returns rows per table.

    The iterable is consumed lazily, and batches are built ahead: every small batch (under OVERLAP_MIN_ROWS
    rows) up to the next large one is built before the first of them is sent, and after a large batch is
    sent, the next ones are built before its COPY is ended, so the server parses one table while Python
    builds the next. A small batch takes the server too little time to hide anything; building it after
    a wait on the server costs more than the building itself (the first Python and Arrow calls after a
    wait run cold: 1 ms of a province's 6), so a province's tables are all built first and then sent
    back to back. (psycopg's threaded QueuedLibpqWriter was slower here: its thread competes for the GIL
    with the building.)"""
    counts: dict[str, int] = {}
    pending: Iterator[CopyBatch] = iter(batches)
    ready: deque[CopyBatch] = deque()

    def build_ahead() -> None:
        """Build batches until a large one is built or none is left."""
        for batch in pending:
            ready.append(batch)
            if batch.rows >= OVERLAP_MIN_ROWS:
                return

    build_ahead()
    with connection.connection.dbapi_connection.cursor() as cursor:
        while ready:
            batch = ready.popleft()
            counts[batch.table] = counts.get(batch.table, 0) + batch.rows
            if not batch.rows:
                continue
            with cursor.copy(f"copy {batch.table} ({', '.join(batch.columns)}) from stdin") as copy:
                copy.write(batch.text)
                if not ready:  # only after a large batch (build_ahead stopped at it): hide the next build
                    build_ahead()
    return counts


def copy_frame(connection: sa.Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY a DataFrame into a table (columns by name) through psycopg 3; returns the row count."""
    if frame.empty:
        return 0
    order, text = copy_text(frame)
    batch = CopyBatch(table, order, text, len(frame))
    return copy_batches(connection, [batch])[table]


def sheet_arrays(
    sheet: SheetSpec, submissions: Iterable[tuple[int, ParsedWorkbook]]
) -> dict[str, pa.Array | np.ndarray | IntColumn]:
    """The rows of one sheet of many submissions by staging column: `IntColumn` (or numpy int64) for
    complete integer columns, Arrow arrays for the others (see copy_text).

    The rows of all submissions are taken as one: the arrays the reader stacked the workbooks read
    together from (`stacked_arrays`: no pandas), else the stacked frame (`stack_tables`), typed once:
    per-submission reshaping cost more than the COPY."""
    submissions = list(submissions)
    workbooks = [workbook for _, workbook in submissions]
    ids = np.asarray([submission_id for submission_id, _ in submissions], dtype=np.int64)
    raw = stacked_arrays(workbooks, sheet.name)
    if raw is not None:
        return _arrays_of_stack(sheet, *raw, ids, lambda: stack_tables(workbooks, sheet.name)[0])
    stacked = stack_tables(workbooks, sheet.name)
    if stacked is None:
        return {}
    rows, owners = stacked
    # select_dtypes keeps the reader's int64 block whole: a third of the cost of picking columns by name
    ints = rows.select_dtypes(np.int64)
    names, dtypes = ints.columns.tolist(), ints.dtypes.tolist()
    plain = [name for name, dtype in zip(names, dtypes, strict=True) if dtype == np.dtype(np.int64)]
    if len(plain) < len(names):  # select_dtypes also picks nullable Int64 (a cell unread): not in the block
        ints, names = ints[plain], plain
    block = np.ascontiguousarray(ints.to_numpy().T)
    stack = StackArrays({name: i for i, name in enumerate(names)}, block, {}, {}, frozenset(rows.columns))
    return _arrays_of_stack(sheet, stack, owners, ids, lambda: rows)


def _arrays_of_stack(sheet: SheetSpec, stack: StackArrays, owners: np.ndarray, ids: np.ndarray,
                     frame: Callable[[], pd.DataFrame]) -> dict[str, pa.Array | np.ndarray | IntColumn]:
    """`sheet_arrays` of stacked rows (`owners`: each row's position in `ids`): the int64 block's columns
    with their ranges, the text and decimal columns as they are, the rest (nullable counts, dates: rare)
    from the frame, built only if needed."""
    n, block, position = len(owners), stack.block, stack.ints
    # the block's columns with their ranges (two reductions for all of them, not two per column)
    lows, highs = (block.min(axis=1).tolist(), block.max(axis=1).tolist()) if n else ([0] * len(position),) * 2
    arrays: dict[str, pa.Array | np.ndarray | IntColumn] = {
        "submission_id": ids[owners],
        "row_number": _int_column(block[position[ROW_NUMBER]], lows[position[ROW_NUMBER]],
                                  highs[position[ROW_NUMBER]]) if ROW_NUMBER in position
        else frame()[ROW_NUMBER].to_numpy(dtype=np.int64),
    }
    rows: pd.DataFrame | None = None
    for column in sheet.columns:
        key = column.key
        if key in position and column.type in ("int", "flag"):
            row = position[key]
            arrays[key] = _int_column(block[row], lows[row], highs[row])
            continue
        if key in stack.texts:
            arrays[key] = stack.texts[key]
            continue
        if key in stack.floats:  # NaN where no amount was given: NULL
            arrays[key] = pa.array(stack.floats[key], from_pandas=True)
            continue
        if key not in stack.keys:
            arrays[key] = pa.nulls(n, TEXT if column.type not in ("int", "flag", "decimal") else pa.int64())
            continue
        rows = frame() if rows is None else rows
        if column.type in ("int", "flag"):
            arrays[key] = pa.array(pd.to_numeric(rows[key], errors="coerce").astype("Int64"))
        elif column.type == "decimal":
            arrays[key] = pa.array(pd.to_numeric(rows[key], errors="coerce").astype("Float64"))
        else:
            values = rows[key]
            arrays[key] = pa.array(values if pd.api.types.is_string_dtype(values.dtype) and
                                   values.dtype != object else values.astype("string"))
    return arrays


def _header_value(value: Any, type_: str) -> Any:
    """A ThongTin value as staging types it (None when it is not of that type)."""
    if value is None:
        return None
    if type_ == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if type_ == "date":
        return value if isinstance(value, dt.date) else None
    return str(value)


def thong_tin_text(sheet: SheetSpec, submissions: list[tuple[int, ParsedWorkbook]]) -> tuple[tuple[str, ...], bytes]:
    """staging.thong_tin's COPY text: one row per submission with its ThongTin values, written in Python.

    One row per district: at most a chunk's 100 rows of a dozen values, where a handful of Arrow calls per
    column cost more than formatting each value (0.4 of a province night's 1.0 ms of building)."""
    columns = ("submission_id", *(column.key for column in sheet.columns))
    lines = []
    for submission_id, workbook in submissions:
        values = [_copy_value(_header_value(workbook.header.get(column.key), column.type)) for column in sheet.columns]
        lines.append(f"{submission_id}\t" + "\t".join(values) + "\n")
    return columns, "".join(lines).encode("utf-8")


_COPY_ESCAPE_TABLE = str.maketrans(dict(COPY_ESCAPES))


def _copy_value(value: Any) -> str:
    """A ThongTin value as COPY text: NULL as \\N, dates in ISO form, text with COPY's characters escaped."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPE_TABLE)
    if isinstance(value, dt.datetime):  # a date column: its day, as a date32 would take it
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def staging_batches(layout: Layout, submissions: list[tuple[int, ParsedWorkbook]]) -> Iterator[CopyBatch]:
    """One COPY batch per staging table, built only when asked for (see copy_batches)."""
    for sheet in layout.sheets.values():
        if sheet.kind == "key_value":
            order, text = thong_tin_text(sheet, submissions)
            yield CopyBatch(f"staging.{sheet.table}", order, memoryview(text), len(submissions))
            continue
        arrays = sheet_arrays(sheet, submissions)
        rows = len(next(iter(arrays.values()))) if arrays else 0
        order, text = copy_text(arrays) if rows else ((), memoryview(b""))
        yield CopyBatch(f"staging.{sheet.table}", order, text, rows)


def check_staging_columns(connection: sa.Connection, layout: Layout) -> None:
    """ValueError (in Vietnamese, for the Sở's operator) when a column of the layout has no staging column: a
    template version brought a column and its migration was not written or not run. Every file's COPY would
    fail, and with it the night, on an English error after the files were recorded; asked once per run."""
    present = set(connection.execute(sa.text(
        "select table_name, column_name from information_schema.columns where table_schema = 'staging'")).all())
    missing = [f"staging.{sheet.table}.{column.key}" for sheet in layout.sheets.values() for column in sheet.columns
               if (sheet.table, column.key) not in present]
    if missing:
        raise ValueError(
            f"Kho dữ liệu chưa có cột cho {', '.join(missing)} của biểu mẫu (etl/layouts/): cần viết và chạy "
            f"migration thêm các cột này (docs/template-versions.md) trước khi nhận tệp. Chưa tệp nào được nhận.")


def load_staging(connection: sa.Connection, layout: Layout,
                 submissions: list[tuple[int, ParsedWorkbook]]) -> dict[str, int]:
    """COPY every sheet of every given submission into staging; returns rows per table (staging.<table>)."""
    counts = copy_batches(connection, staging_batches(layout, submissions))
    return {name.removeprefix("staging."): rows for name, rows in counts.items()}


def findings_frame(submissions: Iterable[tuple[int, list[Finding]]]) -> pd.DataFrame:
    rows = [
        (sid, f.severity, f.rule, f.sheet, f.row_number, f.column_key, f.value, f.message)
        for sid, findings in submissions
        for f in findings
    ]
    frame = pd.DataFrame(rows, columns=ISSUE_COLUMNS)
    frame["row_number"] = frame["row_number"].astype("Int64")
    for column in ("severity", "rule", "sheet", "column_key", "value", "message"):
        frame[column] = frame[column].astype("string")
    return frame


def load_findings(connection: sa.Connection, submissions: list[tuple[int, list[Finding]]]) -> int:
    return copy_frame(connection, "dq.issue", findings_frame(submissions))


def publish_accepted(connection: sa.Connection, submission_ids: list[int]) -> None:
    """Make the accepted submissions current in core, superseding earlier ones, in two round trips:
    sql/load/publish_winners.sql chooses the winners and sets the statuses; then
    sql/load/retire_replaced.sql deletes the facts of the current submissions they replace (only when
    there are some: a district's first submission of a period, the common case, replaces nothing) and
    sql/load/publish.sql writes theirs.

    The scripts take their ids as integer literals (`:name` in the SQL), which lets the planner see how many
    winners there are and which staging pages hold them, with no temporary table to keep (see
    publish_winners.sql)."""
    if not submission_ids:
        return
    batch = sorted({int(submission_id) for submission_id in submission_ids})  # integers: safe as literals
    with connection.connection.dbapi_connection.cursor() as cursor:
        cursor.execute(_publish_script("publish_winners.sql", batch_ids=batch))
        decided = cursor.fetchall()
    winners = [winner for winner, _ in decided]
    if not winners:  # no id of the batch is a recorded submission: nothing to publish (and `in ()` is no SQL)
        return
    replaced = [current for _, current in decided if current is not None]
    scripts = [_publish_script("retire_replaced.sql", replaced_ids=replaced, replaced_first_id=[min(replaced)],
                               replaced_last_id=[max(replaced)])] if replaced else []
    scripts.append(_publish_script("publish.sql", winner_ids=winners, batch_first_id=[batch[0]],
                                   batch_last_id=[batch[-1]]))
    run_script(connection, ";\n".join(scripts))


def _publish_script(name: str, **ids: list[int]) -> str:
    """A script of sql/load with its `:name` placeholders of the given names replaced by the given integers,
    comma-separated (anything else that looks like one, in a comment say, is left as it is)."""
    def fill(match: re.Match[str]) -> str:
        return ",".join(str(int(i)) for i in ids[match[1]]) if match[1] in ids else match[0]

    return _PLACEHOLDER.sub(fill, _load_script(name))


_PLACEHOLDER = re.compile(r"(?<![:\w]):([a-z_]+)\b")


@cache
def _load_script(name: str) -> str:
    return sql_path("load", name).read_text(encoding="utf-8")
