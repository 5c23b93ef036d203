"""Plain data shared by every stage: what a workbook read gives, and one data-quality finding."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

SEVERITIES = ("error", "warning", "info")
ROW_NUMBER = "_row"  # column of every sheet table: the Excel row (1-based) the values came from


@dataclass(frozen=True)
class Finding:
    """One row of dq.issue: what is wrong, where, and what to tell the district (Vietnamese)."""

    severity: str
    rule: str
    message: str
    sheet: str | None = None
    row_number: int | None = None
    column_key: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")


@dataclass(frozen=True, eq=False)
class StackArrays:
    """The arrays a stacked frame was assembled from, for a consumer that wants arrays, not pandas (the
    loader's COPY): `block` holds the frame's int64 columns (complete counts and flags, and `_row`) as rows
    of one read-only 2-D array, `ints` maps their keys to its rows, `texts` holds its text columns as Arrow
    arrays, `floats` its decimal columns (NaN where empty, read-only); `keys` are all of the frame's columns
    (the others are nullable counts and dates). The frame holds the same values."""

    ints: Mapping[str, int]
    block: np.ndarray  # int64, (len(ints), rows of the stack), read-only
    texts: Mapping[str, pa.Array]
    floats: Mapping[str, np.ndarray]
    keys: frozenset[str]


class TableView:
    """One workbook's rows `start:stop` of a frame stacking one sheet of the workbooks read together.

    `columns` are the workbook's own (the template keys found in its sheet, then `_row`); `nullable`
    the count columns with an unreadable cell in this workbook (the others are plain int64 in its frame,
    whatever other workbooks of the stack hold); `arrays`, shared by the stack's views, what the stack
    was built from, when known.
    """

    __slots__ = ("stack", "start", "stop", "columns", "nullable", "arrays")

    def __init__(self, stack: pd.DataFrame, start: int, stop: int, columns: pd.Index,
                 nullable: frozenset[str] = frozenset(), arrays: StackArrays | None = None) -> None:
        self.stack, self.start, self.stop, self.columns, self.nullable = stack, start, stop, columns, nullable
        self.arrays = arrays

    def __len__(self) -> int:
        return self.stop - self.start

    def frame(self) -> pd.DataFrame:
        stack = self.stack
        whole = self.start == 0 and self.stop == len(stack)
        # its own frame (copy on write: changing it leaves the stack and the other workbooks' views as read)
        part = stack.copy(deep=False) if whole else stack.iloc[self.start : self.stop].reset_index(drop=True)
        if not part.columns.equals(self.columns):
            part = part[self.columns]
        complete = [c for c, dtype in part.dtypes.items() if dtype == "Int64" and c not in self.nullable]
        return part.astype(dict.fromkeys(complete, np.int64)) if complete else part


class Tables(MutableMapping[str, pd.DataFrame]):
    """A workbook's tables by canonical sheet name: a dict of DataFrames whose entries may still be
    views of frames stacking many workbooks (`read_workbooks`); a view becomes its own DataFrame when
    first asked for. `stack_tables` hands the stacked frame on whole while no workbook's view of it has
    been asked for (a frame handed out may be changed: from then on its own frame counts)."""

    def __init__(self, frames: dict[str, pd.DataFrame] | None = None) -> None:
        self._entries: dict[str, pd.DataFrame | TableView] = dict(frames or {})

    def __getitem__(self, name: str) -> pd.DataFrame:
        entry = self._entries[name]
        if isinstance(entry, TableView):
            entry = self._entries[name] = entry.frame()
        return entry

    def __setitem__(self, name: str, frame: pd.DataFrame) -> None:
        self._entries[name] = frame

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Tables({ {name: len(entry) for name, entry in self._entries.items()} })"

    def add_view(self, name: str, view: TableView) -> None:
        self._entries[name] = view

    def view(self, name: str) -> TableView | None:
        """The entry while it is still a view of a stacked frame, else None."""
        entry = self._entries.get(name)
        return entry if isinstance(entry, TableView) else None

    def rows(self, name: str) -> int | None:
        """Number of data rows of a sheet's table without building its frame; None if the sheet was not read."""
        entry = self._entries.get(name)
        return None if entry is None else len(entry)


def stack_tables(workbooks: Sequence[ParsedWorkbook], sheet: str) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The rows of one sheet of every workbook in turn, and per row the position of its workbook in
    `workbooks`; None when no workbook has a row of it.

    Workbooks read together (`read_workbooks`) share one stacked frame per sheet: it is handed on as
    it is (or the rows of the workbooks given, taken at once), without building a frame per workbook.
    A workbook whose table is its own frame (given so, or asked for and so maybe changed) adds that
    frame. Columns: every template key found in some workbook's sheet, NA where a workbook has no such
    column. The frame is the caller's to change (copy on write keeps the stack as it is).
    """
    owners, lengths = [], []
    parts: list[pd.DataFrame] = []
    run: list[TableView] = []  # views of one stack, in turn

    def flush() -> None:
        if run:
            parts.append(_stacked_rows(run))
            run.clear()

    for position, workbook in enumerate(workbooks):
        tables = workbook.tables
        rows = tables.rows(sheet)
        if not rows:
            continue
        owners.append(position)
        lengths.append(rows)
        view = tables.view(sheet)
        if view is not None and (not run or run[-1].stack is view.stack):
            run.append(view)
            continue
        flush()
        if view is not None:
            run.append(view)
        else:
            parts.append(tables[sheet])
    flush()
    if not parts:
        return None
    owner = np.repeat(np.asarray(owners, dtype=np.int64), lengths)
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return frame.copy(deep=False), owner


def stacked_arrays(workbooks: Sequence[ParsedWorkbook], sheet: str) -> tuple[StackArrays, np.ndarray] | None:
    """The rows `stack_tables` gives, as arrays (the `StackArrays` of those rows) with per row the position
    of its workbook, when they are one stretch of one stack, in its order, with its arrays known: workbooks
    read together, none of whose tables was asked for (a frame handed out may have been changed). None
    otherwise, or when no workbook has a row of the sheet: use `stack_tables`. No pandas: the block's
    columns and Arrow slices."""
    owners, lengths, views = [], [], []
    for position, workbook in enumerate(workbooks):
        tables = workbook.tables
        rows = tables.rows(sheet)
        if not rows:
            continue
        view = tables.view(sheet)
        if view is None or view.arrays is None or (views and (view.stack is not views[-1].stack
                                                              or view.start != views[-1].stop)):
            return None
        owners.append(position)
        lengths.append(rows)
        views.append(view)
    if not views:
        return None
    arrays = views[0].arrays
    start, stop = views[0].start, views[-1].stop
    stretch = StackArrays(
        ints=arrays.ints,
        block=arrays.block[:, start:stop],
        texts={key: values.slice(start, stop - start) for key, values in arrays.texts.items()},
        floats={key: values[start:stop] for key, values in arrays.floats.items()},
        keys=arrays.keys,
    )
    return stretch, np.repeat(np.asarray(owners, dtype=np.int64), lengths)


def _stacked_rows(views: list[TableView]) -> pd.DataFrame:
    """The rows of some views of one stack, in turn: the stack itself, a slice of it, or a take."""
    stack = views[0].stack
    if all(v.stop == w.start for v, w in zip(views, views[1:], strict=False)):
        first, last = views[0].start, views[-1].stop
        return stack if first == 0 and last == len(stack) else stack.iloc[first:last].reset_index(drop=True)
    return stack.take(np.concatenate([np.arange(v.start, v.stop) for v in views])).reset_index(drop=True)


@dataclass
class ParsedWorkbook:
    """A district workbook as read, before validation.

    `header` holds the ThongTin values by key, typed (codes and texts as str, counts as int,
    `ngay_lap` as datetime.date, `ky_bao_cao` as `HKI`/`CN`); a value that could not be read
    is absent and has a finding. `tables` (a `Tables`: a dict of frames, some of which may still be
    views of a chunk's stacked frame) maps the canonical sheet name (TruongLop, DoiNgu,
    DanhGiaChuan, BoiDuong, LopBoiDuong) to one row per data row, columns = template keys
    present in the sheet plus `_row` (the Excel row, int64). Count and flag columns are plain int64
    when every cell of the column in that sheet was read (an empty cell is 0), and nullable Int64
    only when a cell is unreadable: that cell is NA and has a finding. Consumers must accept both
    (`pd.to_numeric(...).astype("Int64")` does). Codes and enumeration keys are str, `kinh_phi` is
    float. `sheet_names` maps canonical names to the names as written.
    """

    file_name: str
    template_version: str | None = None
    header: dict[str, Any] = field(default_factory=dict)
    header_rows: dict[str, int] = field(default_factory=dict)
    tables: Tables = field(default_factory=Tables)
    sheet_names: dict[str, str] = field(default_factory=dict)
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    # canonical sheet -> template key -> 1-based Excel column the key was read from (for cell references)
    column_positions: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def period(self) -> tuple[str | None, str | None, str | None]:
        return (self.header.get("ma_don_vi"), self.header.get("nam_hoc"), self.header.get("ky_bao_cao"))

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "tables" and not isinstance(value, Tables):
            value = Tables(value)  # a plain dict of frames, as tests and tools build workbooks
        super().__setattr__(name, value)

    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)
