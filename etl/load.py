"""Loading into the warehouse: staging rows and findings by COPY, then set-based publishing into core.

Every readable submission's rows go to staging (accepted or not: nothing a district sent is lost);
only accepted ones are published into core, in the same transaction (sql/load/publish.sql).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from etl.layout import Layout, SheetSpec
from etl.migrations import sql_path
from etl.model import ROW_NUMBER, Finding, ParsedWorkbook
from etl.warehouse import run_script

COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
ISSUE_COLUMNS = ["submission_id", "severity", "rule", "sheet", "row_number", "column_key", "value", "message"]
PG_TYPES = {"code": "text", "text": "text", "enum": "text", "int": "integer", "flag": "smallint",
            "decimal": "numeric", "date": "date"}


def copy_text(frame: pd.DataFrame) -> memoryview:
    """The frame in PostgreSQL's COPY text format, built column-wise by Arrow compute kernels.

    Faster than a CSV writer on text columns (no per-cell quoting decisions): every value becomes text in
    C, NULL becomes \\N, and backslash, tab, newline and carriage return in text are escaped as COPY
    requires. The result is the data buffer of one Arrow array: rows joined by tabs, ended by newlines."""
    text = pa.large_string()
    fields = []
    for column in pa.Table.from_pandas(frame, preserve_index=False).columns:
        values = column.combine_chunks()
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            values = values.cast(text)
            for raw, escaped in COPY_ESCAPES:
                values = pc.replace_substring(values, raw, escaped)
        else:
            values = pc.cast(values, text)
        fields.append(pc.fill_null(values, pa.scalar("\\N", text)))
    rows = pc.binary_join_element_wise(*fields, pa.scalar("\t", text))
    rows = pc.binary_join_element_wise(rows, pa.scalar("", text), pa.scalar("\n", text))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset: rows.offset + len(rows) + 1]
    return memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]]


def copy_frame(connection: sa.Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY a DataFrame into a table (columns by name) through psycopg 3; returns the row count."""
    if frame.empty:
        return 0
    columns = ", ".join(frame.columns)
    with connection.connection.dbapi_connection.cursor() as cursor, cursor.copy(
        f"copy {table} ({columns}) from stdin"
    ) as copy:
        copy.write(copy_text(frame))
    return len(frame)


def staging_frame(sheet: SheetSpec, submissions: Iterable[tuple[int, ParsedWorkbook]]) -> pd.DataFrame:
    """The rows of one sheet of many submissions, in the column order of staging.<table>.

    The tables are concatenated first and typed once: per-submission reshaping cost more than the COPY."""
    tables, ids = [], []
    for submission_id, workbook in submissions:
        table = workbook.tables.get(sheet.name)
        if table is not None and not table.empty:
            tables.append(table)
            ids.append(np.full(len(table), submission_id, dtype="int64"))
    if not tables:
        return pd.DataFrame()
    rows = pd.concat(tables, ignore_index=True, copy=False)
    columns = {"submission_id": np.concatenate(ids), "row_number": rows[ROW_NUMBER].to_numpy()}
    for column in sheet.columns:
        values = rows[column.key] if column.key in rows else pd.Series(pd.NA, index=rows.index)
        if column.type in ("int", "flag"):
            # the reader gives complete count columns as int64 already: no copy for those
            is_int = pd.api.types.is_integer_dtype(values.dtype)
            columns[column.key] = values if is_int else pd.to_numeric(values, errors="coerce").astype("Int64")
        elif column.type == "decimal":
            columns[column.key] = pd.to_numeric(values, errors="coerce").astype("Float64")
        else:
            columns[column.key] = values.astype("string")
    return pd.DataFrame(columns)


def thong_tin_frame(sheet: SheetSpec, submissions: Iterable[tuple[int, ParsedWorkbook]]) -> pd.DataFrame:
    """One row per submission with its ThongTin values (staging.thong_tin)."""
    rows = [{"submission_id": sid, **{k: wb.header.get(k) for k in sheet.keys}} for sid, wb in submissions]
    frame = pd.DataFrame(rows, columns=["submission_id", *sheet.keys])
    for column in sheet.columns:
        if column.type == "int":
            frame[column.key] = pd.to_numeric(frame[column.key], errors="coerce").astype("Int64")
        elif column.type == "date":
            frame[column.key] = pd.to_datetime(frame[column.key], errors="coerce").dt.date
        else:
            frame[column.key] = frame[column.key].astype("string")
    return frame


def load_staging(connection: sa.Connection, layout: Layout,
                 submissions: list[tuple[int, ParsedWorkbook]]) -> dict[str, int]:
    """COPY every sheet of every given submission into staging; returns rows per table."""
    counts = {}
    for sheet in layout.sheets.values():
        build = thong_tin_frame if sheet.kind == "key_value" else staging_frame
        frame = build(sheet, submissions)
        counts[sheet.table] = copy_frame(connection, f"staging.{sheet.table}", frame)
    return counts


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
