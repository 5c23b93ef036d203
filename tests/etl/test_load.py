"""COPY text built by Arrow kernels: every value arrives exactly, NULL stays NULL, text is escaped."""

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from etl.load import copy_frame


def test_copy_frame_round_trips_awkward_values(engine):
    names = ["Trường MN Hoa Ban", "a\tb", "dòng 1\ndòng 2", "back\\slash \\N", "", None, 'dấu "ngoặc", phẩy', "\r"]
    frame = pd.DataFrame({
        "name": pd.array(names, dtype="string"),
        "count": pd.array([1, None, 3, -4, 0, 2**40, 7, 8], dtype="Int64"),
        "amount": pd.array([12.5, None, 0.1, 1e6, 0.0, 3.25, 1.0, 2.0], dtype="Float64"),
        "day": [dt.date(2020, 6, 16), None, dt.date(2019, 1, 1), None, None, None, None, None],
    })
    with engine.begin() as c:
        c.exec_driver_sql("create temporary table t (name text, count bigint, amount numeric, day date) "
                          "on commit drop")
        assert copy_frame(c, "t", frame) == len(frame)
        rows = c.execute(sa.text("select name, count, amount, day from t")).all()
    assert [r.name for r in rows] == names
    assert [r.count for r in rows] == [1, None, 3, -4, 0, 2**40, 7, 8]
    assert [None if r.amount is None else float(r.amount) for r in rows] == [12.5, None, 0.1, 1e6, 0.0, 3.25, 1.0, 2.0]
    assert rows[0].day == dt.date(2020, 6, 16) and rows[1].day is None
