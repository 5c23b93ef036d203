"""Loading into the warehouse: staging rows and findings by COPY, then set-based publishing into core.

Every readable submission's rows go to staging (accepted or not: nothing a district sent is lost);
only accepted ones are published into core, in the same transaction (sql/load/publish.sql).

The COPY path is built for the nightly batch (chunks of 100 district workbooks): each sheet's tables are
concatenated once and written as PostgreSQL COPY text with no per-row Python (text columns by Arrow
compute kernels, complete integer columns in fixed width by numpy), and the next table is built while the
server parses the one just sent (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from etl.layout import Layout, SheetSpec
from etl.migrations import sql_path
from etl.model import ROW_NUMBER, Finding, ParsedWorkbook, stack_tables
from etl.warehouse import run_script

TEXT = pa.large_string()
NULL_TEXT = pa.scalar("\\N", TEXT)
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
        values = values.cast(TEXT)
        # four memchr scans of the data buffer find the rare column that needs escaping (a false positive,
        # e.g. bytes past a slice, only costs the replace passes)
        data = values.buffers()[2]
        data = data.to_pybytes() if data is not None else b""
        if any(raw.encode() in data for raw, _ in COPY_ESCAPES):
            for raw, escaped in COPY_ESCAPES:
                values = pc.replace_substring(values, raw, escaped)
    else:
        values = pc.cast(values, TEXT)
    return pc.fill_null(values, NULL_TEXT) if values.null_count else values


FIXED_WIDTH_LIMIT = 10**18  # magnitudes below it have at most 18 digits: no int64 overflow below


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

    Every row has the same width, so the text is one (rows x width) byte matrix filled a digit position
    at a time for all rows at once, with no per-value text at all: a third of the cost of casting each
    column to text and joining them."""
    n = len(columns[0].values)
    widths = [len(str(max(column.high, -column.low))) for column in columns]
    signed = [column.low < 0 for column in columns]
    width = sum(widths) + sum(signed) + len(columns)  # digits, signs, one tab or newline per value
    out = np.empty((n, width), dtype=np.uint8)
    position = 0
    for column, digits, sign in zip(columns, widths, signed, strict=True):
        values = magnitude = column.values
        if sign:
            out[:, position] = np.where(values < 0, ord("-"), ord("0"))
            magnitude = np.abs(values)
            position += 1
        if digits == 1:
            out[:, position] = magnitude + ord("0")
        else:
            rest = magnitude
            for place in range(position + digits - 1, position - 1, -1):  # last digit first
                rest, digit = np.divmod(rest, 10)
                out[:, place] = digit + ord("0")
        position += digits
        out[:, position] = ord("\t")
        position += 1
    out[:, -1] = ord("\n")
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out))


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

    The next batch is built (the iterable is consumed lazily) after the current one is sent and before
    its COPY is ended: the server parses one table while Python builds the next. (psycopg's threaded
    QueuedLibpqWriter was slower here: its thread competes for the GIL with the building.)"""
    counts: dict[str, int] = {}
    pending: Iterator[CopyBatch] = iter(batches)
    batch = next(pending, None)
    with connection.connection.dbapi_connection.cursor() as cursor:
        while batch is not None:
            counts[batch.table] = counts.get(batch.table, 0) + batch.rows
            if not batch.rows:
                batch = next(pending, None)
                continue
            statement = f"copy {batch.table} ({', '.join(batch.columns)}) from stdin"
            with cursor.copy(statement) as copy:
                copy.write(batch.text)
                batch = next(pending, None)
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

    The rows of all submissions are taken as one frame (the reader's stack of the workbooks read
    together, `stack_tables`) and typed once: per-submission reshaping cost more than the COPY. The
    reader gives complete count columns as one plain int64 block: taken out as one 2-D array."""
    submissions = list(submissions)
    stacked = stack_tables([workbook for _, workbook in submissions], sheet.name)
    if stacked is None:
        return {}
    rows, owners = stacked
    n = len(rows)
    # select_dtypes keeps the reader's int64 block whole: a third of the cost of picking columns by name
    ints = rows.select_dtypes(np.int64)
    names, dtypes = ints.columns.tolist(), ints.dtypes.tolist()
    plain = [name for name, dtype in zip(names, dtypes, strict=True) if dtype == np.dtype(np.int64)]
    if len(plain) < len(names):  # select_dtypes also picks nullable Int64 (a cell unread): not in the block
        ints, names = ints[plain], plain
    block = np.ascontiguousarray(ints.to_numpy().T)
    position = {name: i for i, name in enumerate(names)}
    # the block's columns with their ranges (two reductions for all of them, not two per column)
    lows, highs = (block.min(axis=1).tolist(), block.max(axis=1).tolist()) if n else ([0] * len(names),) * 2
    complete = {c.key: _int_column(block[position[c.key]], lows[position[c.key]], highs[position[c.key]])
                for c in sheet.columns if c.type in ("int", "flag") and c.key in position}
    arrays: dict[str, pa.Array | np.ndarray | IntColumn] = {
        "submission_id": np.asarray([submission_id for submission_id, _ in submissions], dtype=np.int64)[owners],
        "row_number": block[position[ROW_NUMBER]] if ROW_NUMBER in position
        else rows[ROW_NUMBER].to_numpy(dtype=np.int64),
    }
    for column in sheet.columns:
        if column.key in complete:
            arrays[column.key] = complete[column.key]
        elif column.key not in rows:
            arrays[column.key] = pa.nulls(n, TEXT if column.type not in ("int", "flag", "decimal") else pa.int64())
        elif column.type in ("int", "flag"):
            arrays[column.key] = pa.array(pd.to_numeric(rows[column.key], errors="coerce").astype("Int64"))
        elif column.type == "decimal":
            arrays[column.key] = pa.array(pd.to_numeric(rows[column.key], errors="coerce").astype("Float64"))
        else:
            values = rows[column.key]
            arrays[column.key] = pa.array(values if pd.api.types.is_string_dtype(values.dtype) and
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


def thong_tin_arrays(sheet: SheetSpec, submissions: Iterable[tuple[int, ParsedWorkbook]]) -> dict[str, pa.Array]:
    """One row per submission with its ThongTin values (staging.thong_tin)."""
    submissions = list(submissions)
    types = {"int": pa.int64(), "date": pa.date32()}
    arrays = {"submission_id": pa.array([sid for sid, _ in submissions], pa.int64())}
    for column in sheet.columns:
        values = [_header_value(wb.header.get(column.key), column.type) for _, wb in submissions]
        arrays[column.key] = pa.array(values, types.get(column.type, TEXT))
    return arrays


def staging_batches(layout: Layout, submissions: list[tuple[int, ParsedWorkbook]]) -> Iterator[CopyBatch]:
    """One COPY batch per staging table, built only when asked for (see copy_batches)."""
    for sheet in layout.sheets.values():
        build = thong_tin_arrays if sheet.kind == "key_value" else sheet_arrays
        arrays = build(sheet, submissions)
        rows = len(next(iter(arrays.values()))) if arrays else 0
        order, text = copy_text(arrays) if rows else ((), memoryview(b""))
        yield CopyBatch(f"staging.{sheet.table}", order, text, rows)


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
    """Make the accepted submissions current in core (sql/load/publish.sql), superseding earlier ones."""
    if not submission_ids:
        return
    connection.exec_driver_sql("create temporary table publish_batch (submission_id bigint) on commit drop")
    connection.execute(
        sa.text("insert into publish_batch select unnest(cast(:ids as bigint[]))"), {"ids": submission_ids}
    )
    run_script(connection, sql_path("load", "publish.sql").read_text(encoding="utf-8"))
