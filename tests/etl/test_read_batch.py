"""etl/read.py, workbooks read together (`read_workbooks`): the same results as each file read alone, one
stacked frame per sheet that `etl.model.stack_tables` hands on, and no garbage left for the collector."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl import load
from etl.layout import load_layout
from etl.model import ParsedWorkbook, stack_tables, stacked_arrays
from etl.read import read_workbook, read_workbooks
from tests.etl.test_read import SAMPLES, table_rows, table_values, thongtin_rows, valid_book, write_xlsx

DN = "DoiNgu"


def _book_with(sheet: str, row: int, key: str, cell: object) -> dict:
    book, _ = valid_book(4)
    values = table_values(sheet, 4)
    rows = table_rows(sheet, values)
    rows[1 + row][list(values[0]).index(key)] = cell
    book[sheet] = rows
    return book


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A mixed batch: clean files, an unreadable count (a nullable column), a sheet without an optional
    column, a corrupt file, the shared samples (xlsx and the CSV zip)."""
    folder = tmp_path_factory.mktemp("batch")
    clean, _ = valid_book(3)
    bad_count = _book_with(DN, 2, "gv_tong", "mười hai")
    without_column, _ = valid_book(5)
    without_column[DN] = [[cell for c, cell in enumerate(row) if c != len(row) - 1] for row in without_column[DN]]
    paths = [
        write_xlsx(folder / "clean.xlsx", clean),
        write_xlsx(folder / "bad-count.xlsx", bad_count),
        write_xlsx(folder / "without-column.xlsx", without_column),
        write_xlsx(folder / "hki.xlsx", valid_book(2, ky_bao_cao="HKI")[0]),
    ]
    corrupt = folder / "corrupt.xlsx"
    corrupt.write_bytes(paths[0].read_bytes()[:700])
    paths.insert(2, corrupt)
    only_info = write_xlsx(folder / "only-info.xlsx", {"ThongTin": thongtin_rows()})
    paths.append(only_info)
    return paths + sorted(SAMPLES.glob("*.xlsx")) + sorted(SAMPLES.glob("*.zip"))


def _same(alone: ParsedWorkbook, together: ParsedWorkbook) -> None:
    for attr in ("file_name", "template_version", "header", "header_rows", "sheet_names", "totals",
                 "column_positions", "findings"):
        assert getattr(together, attr) == getattr(alone, attr), attr
    assert list(together.tables) == list(alone.tables)
    for sheet in alone.tables:
        pd.testing.assert_frame_equal(together.tables[sheet], alone.tables[sheet], check_exact=True)


def test_reading_together_gives_what_reading_alone_gives(files: list[Path]) -> None:
    alone = [read_workbook(path) for path in files]
    together = read_workbooks(files)
    assert len(together) == len(files)
    for a, b in zip(alone, together, strict=True):
        _same(a, b)
    bad = together[[p.name for p in files].index("bad-count.xlsx")]
    assert bad.tables[DN]["gv_tong"].dtype == "Int64"  # its own unreadable cell: nullable, NA
    assert bad.tables[DN]["gv_tong"].isna().sum() == 1
    clean = together[0]
    assert clean.tables[DN]["gv_tong"].dtype == "int64"  # plain, whatever the other files of the stack hold
    without = together[[p.name for p in files].index("without-column.xlsx")]
    last_key = clean.tables[DN].columns[-2]  # the last template column, before `_row`
    assert without.tables[DN].columns.tolist() == clean.tables[DN].columns.drop(last_key).tolist()


def test_the_stack_is_handed_on_without_a_frame_per_workbook(files: list[Path]) -> None:
    workbooks = read_workbooks(files)
    rows = [wb.tables.rows(DN) or 0 for wb in workbooks]
    frame, owners = stack_tables(workbooks, DN)
    assert len(frame) == sum(rows)
    assert owners.tolist() == [i for i, n in enumerate(rows) for _ in range(n)]
    assert all(wb.tables.view(DN) is not None for wb in workbooks if DN in wb.tables)  # no frame built
    assert frame["gv_tong"].dtype == "Int64"  # one file has an unreadable cell
    # a missing column is NA for that file's rows only
    missing = owners == [p.name for p in files].index("without-column.xlsx")
    last_key = workbooks[0].tables[DN].columns[-2]
    assert frame.loc[missing, last_key].isna().all() and frame.loc[~missing, last_key].notna().all()
    # a subset, in another order, is taken from the stack too
    subset = [workbooks[3], workbooks[0]]
    part, part_owners = stack_tables(subset, DN)
    expected = pd.concat([wb.tables[DN] for wb in subset], ignore_index=True)
    pd.testing.assert_frame_equal(part[expected.columns], expected, check_dtype=False)
    assert part_owners.tolist() == [0] * len(subset[0].tables[DN]) + [1] * len(subset[1].tables[DN])


def test_a_table_asked_for_and_changed_is_what_the_stack_gives(files: list[Path]) -> None:
    workbooks = read_workbooks(files[:2])
    workbooks[1].tables[DN].loc[0, "gv_bien_che"] = 999
    frame, owners = stack_tables(workbooks, DN)
    assert frame.loc[owners == 1, "gv_bien_che"].iloc[0] == 999
    assert (frame.loc[owners == 0, "gv_bien_che"] != 999).all()


def test_changing_the_stacked_frame_leaves_the_tables_as_read(files: list[Path]) -> None:
    workbooks = read_workbooks(files[:2])
    before = workbooks[0].tables.view(DN).frame()
    frame, _ = stack_tables(workbooks, DN)
    frame["gv_tong"] = 0
    frame["extra"] = 1
    pd.testing.assert_frame_equal(workbooks[0].tables[DN], before)
    assert (stack_tables(workbooks, DN)[0]["gv_tong"] != 0).any()


def test_reading_leaves_no_cyclic_garbage_and_the_collector_as_it_was(files: list[Path]) -> None:
    gc.collect()
    assert gc.isenabled()
    workbooks = read_workbooks(files)
    assert gc.isenabled()
    for wb in workbooks:
        for sheet in wb.tables:
            wb.tables[sheet]
    del workbooks
    gc.disable()
    try:
        read_workbooks(files)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
    assert gc.collect() == 0  # everything the reader made was freed by reference counting


def test_an_empty_batch() -> None:
    assert read_workbooks([]) == []
    assert stack_tables([], DN) is None


def test_stack_of_workbooks_given_as_frames() -> None:
    first = pd.DataFrame({"gv_tong": np.array([1, 2]), "_row": np.array([3, 4])})
    second = pd.DataFrame({"gv_tong": np.array([5]), "_row": np.array([3])})
    workbooks = [ParsedWorkbook("a.xlsx", tables={DN: first}), ParsedWorkbook("b.xlsx"),
                 ParsedWorkbook("c.xlsx", tables={DN: second})]
    frame, owners = stack_tables(workbooks, DN)
    assert frame["gv_tong"].tolist() == [1, 2, 5]
    assert owners.tolist() == [0, 0, 2]


def test_a_single_workbooks_table_changed_leaves_its_stack_as_read(files: list[Path]) -> None:
    [workbook] = read_workbooks(files[:1])
    stack = workbook.tables.view(DN).stack
    before = stack["gv_tong"].tolist()
    workbook.tables[DN].loc[0, "gv_tong"] = 12345
    assert stack["gv_tong"].tolist() == before
    assert stack_tables([workbook], DN)[0]["gv_tong"].iloc[0] == 12345


def test_the_stacks_arrays_hold_what_its_frame_holds(files: list[Path]) -> None:
    """`stacked_arrays` (what the loader COPYs from) gives the stack's int64 and text columns as they are in
    `stack_tables`' frame, for a stretch of the stack in its order; otherwise nothing (the frame decides)."""
    workbooks = read_workbooks(files)
    assert stacked_arrays(workbooks, "LopBoiDuong")[0].floats  # kinh_phi
    for sheet in ("TruongLop", DN, "LopBoiDuong"):
        arrays, arrays_owners = stacked_arrays(workbooks, sheet)
        frame, owners = stack_tables(workbooks, sheet)
        assert arrays.block.shape[1] == len(frame) and arrays_owners.tolist() == owners.tolist()
        assert set(arrays.keys) == set(frame.columns)
        assert set(arrays.ints) == {c for c, dtype in frame.dtypes.items() if dtype == np.int64}
        for key, row in arrays.ints.items():
            assert arrays.block[row].tolist() == frame[key].tolist(), key
        assert arrays.texts, sheet
        for key, values in arrays.texts.items():
            assert values.to_pylist() == [None if pd.isna(v) else v for v in frame[key]], key
        assert set(arrays.floats) == {c for c, dtype in frame.dtypes.items() if dtype == np.float64}
        for key, values in arrays.floats.items():
            assert np.array_equal(values, frame[key].to_numpy(), equal_nan=True), key
        with pytest.raises(ValueError):
            arrays.block[0, 0] = 1  # shared with the frame: read-only
    stretch = stacked_arrays(workbooks[1:4], DN)
    assert stretch[0].block.shape[1] == len(stretch[1]) == len(stack_tables(workbooks[1:4], DN)[0])
    assert stacked_arrays([workbooks[3], workbooks[0]], DN) is None  # not the stack's order
    workbooks[0].tables[DN]  # asked for: it may be changed from now on
    assert stacked_arrays(workbooks, DN) is None
    assert stacked_arrays([ParsedWorkbook("a.xlsx")], DN) is None


def test_the_loader_copies_the_same_rows_from_the_arrays_as_from_the_frame(files: list[Path], monkeypatch) -> None:
    workbooks = [wb for wb in read_workbooks(files) if not wb.has_errors() or wb.tables]
    submissions = list(enumerate(workbooks, 1))
    layout = load_layout()

    def batches() -> list[tuple]:
        return [(b.table, b.columns, bytes(b.text), b.rows) for b in load.staging_batches(layout, submissions)]

    from_arrays = batches()
    monkeypatch.setattr(load, "stacked_arrays", lambda *_: None)
    assert batches() == from_arrays
    assert sum(rows for *_, rows in from_arrays) > 50
