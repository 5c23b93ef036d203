"""COPY text built by Arrow kernels and fixed-width integers: every value arrives exactly, NULL stays NULL,
text is escaped."""

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import load
from etl.load import DIGIT_TABLE_MAX_ROWS, copy_frame, copy_text


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


INT64 = st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)
SMALL = st.integers(min_value=-50, max_value=5000)
MEDIUM = st.integers(min_value=-(10**6), max_value=10**12)  # more digits than the digit tables hold
TEXTS = st.text(alphabet=st.sampled_from("aĐđ ờ\\\t\n\rN,\"'0"), max_size=6)


@pytest.mark.parametrize("digit_tables", [True, False], ids=["digit-tables", "digit-by-digit"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_copy_text_round_trips_random_columns(engine, data, digit_tables, monkeypatch):
    """Complete integer columns go in fixed width (zero-padded: looked up in digit tables below
    DIGIT_TABLE_MAX_ROWS rows, else written a digit at a time), the others as cast text: every value, sign,
    NULL and special character must come back as it was, in whatever column order the text uses."""
    monkeypatch.setattr(load, "DIGIT_TABLE_MAX_ROWS", DIGIT_TABLE_MAX_ROWS if digit_tables else 0)
    rows = data.draw(st.integers(min_value=0, max_value=30))
    counts = data.draw(st.lists(st.lists(SMALL, min_size=rows, max_size=rows), min_size=1, max_size=4))
    wide = data.draw(st.lists(INT64, min_size=rows, max_size=rows))
    medium = data.draw(st.lists(MEDIUM, min_size=rows, max_size=rows))
    gappy = data.draw(st.lists(st.one_of(st.none(), SMALL), min_size=rows, max_size=rows))
    texts = data.draw(st.lists(st.one_of(st.none(), TEXTS), min_size=rows, max_size=rows))
    columns = {f"c{i}": pa.array(values, pa.int64()) for i, values in enumerate(counts)}
    columns |= {"wide": pa.array(wide, pa.int64()), "medium": pa.array(medium, pa.int64()),
                "gappy": pa.array(gappy, pa.int64()),
                "label": pa.array(texts, pa.large_string())}
    order, text = copy_text(columns)
    assert sorted(order) == sorted(columns)
    with engine.begin() as c:
        definitions = ", ".join(f"{k} {'text' if k == 'label' else 'bigint'}" for k in order)
        c.exec_driver_sql(f"create temporary table r ({definitions}, n serial) on commit drop")
        with c.connection.dbapi_connection.cursor() as cursor, cursor.copy(
            f"copy r ({', '.join(order)}) from stdin"
        ) as copy:
            copy.write(text)
        back = c.exec_driver_sql(f"select {', '.join(columns)} from r order by n").all()
    assert [tuple(r) for r in back] == list(zip(*[columns[k].to_pylist() for k in columns], strict=True))



def test_staging_keeps_an_unread_count_cell_null_and_the_others_exact(engine):
    """A count column with an unreadable cell is nullable Int64 (the reader's contract): its NA goes to
    staging as NULL, its other values and the complete int64 columns exactly."""
    from etl.layout import load_layout
    from etl.load import load_staging
    from etl.model import ParsedWorkbook

    layout = load_layout()
    truong_lop = pd.DataFrame({
        "ma_truong": pd.array(["14128001", "14128002"], dtype="str"),
        "ten_truong": pd.array(["MN Vân Hồ", "MN Chiềng Khoa"], dtype="str"),
        "so_nhom_tre": pd.array([3, None], dtype="Int64"),
        "so_lop_mau_giao": np.array([4, 5], dtype=np.int64),
        "_row": np.array([4, 5], dtype=np.int64),
    })
    workbook = ParsedWorkbook("a.xlsx", header={"ma_don_vi": "128"}, tables={"TruongLop": truong_lop})
    with engine.begin() as c:
        c.exec_driver_sql("insert into dq.submission (submission_id, file_name, sha256, size_bytes, archive_path, "
                          "received_at) values (9001, 'a.xlsx', 'x', 0, '', now())")
        counts = load_staging(c, layout, [(9001, workbook)])
        rows = c.exec_driver_sql("select row_number, ma_truong, ten_truong, so_nhom_tre, so_lop_mau_giao, tre_5_tuoi "
                                 "from staging.truong_lop where submission_id = 9001 order by row_number").all()
    assert counts["truong_lop"] == 2 and counts["thong_tin"] == 1
    assert [tuple(r) for r in rows] == [(4, "14128001", "MN Vân Hồ", 3, 4, None),
                                        (5, "14128002", "MN Chiềng Khoa", None, 5, None)]


def test_copy_text_escapes_what_a_slice_holds_and_only_that():
    """The reader's text columns are slices of one buffer: the escaping looks at the slice's characters."""
    whole = pa.array(["a\tb", "plain", "x\\y", None], pa.large_string())
    assert bytes(copy_text({"t": whole.slice(1, 1)})[1]) == b"plain\n"
    assert bytes(copy_text({"t": whole.slice(2, 2)})[1]) == b"x\\\\y\n\\N\n"
    assert bytes(copy_text({"t": whole.slice(0, 1)})[1]) == b"a\\tb\n"


def test_thong_tin_round_trips_awkward_values(engine):
    """staging.thong_tin's COPY text is written in Python: NULL, dates, numbers and COPY's special
    characters in text (a literal backslash-N included) must arrive exactly."""
    from etl.layout import load_layout
    from etl.load import load_staging
    from etl.model import ParsedWorkbook

    layout = load_layout()
    headers = [
        {"ma_don_vi": "128", "ten_don_vi": "Phòng\tGD&ĐT\nVân Hồ\r", "nguoi_lap": "back\\slash \\N",
         "ngay_lap": dt.date(2020, 6, 15), "dan_so_0_2": 1234, "dan_so_3_5": None, "nam_hoc": "2019-2020"},
        {"ma_don_vi": "118", "ngay_lap": dt.datetime(2021, 1, 2, 13, 5), "dan_so_5": -3, "email": ""},
    ]
    submissions = [(9101 + i, ParsedWorkbook(f"{i}.xlsx", header=header)) for i, header in enumerate(headers)]
    keys = [column.key for column in layout.sheets["ThongTin"].columns]
    with engine.begin() as c:
        for submission_id, _ in submissions:
            c.exec_driver_sql("insert into dq.submission (submission_id, file_name, sha256, size_bytes, archive_path, "
                              f"received_at) values ({submission_id}, 'a.xlsx', 'x', 0, '', now())")
        assert load_staging(c, layout, submissions)["thong_tin"] == 2
        rows = c.exec_driver_sql(f"select {', '.join(keys)} from staging.thong_tin "
                                 "where submission_id in (9101, 9102) order by submission_id").mappings().all()
    assert rows[0]["ten_don_vi"] == "Phòng\tGD&ĐT\nVân Hồ\r"
    assert rows[0]["nguoi_lap"] == "back\\slash \\N"
    assert (rows[0]["ngay_lap"], rows[0]["dan_so_0_2"], rows[0]["dan_so_3_5"]) == (dt.date(2020, 6, 15), 1234, None)
    assert (rows[1]["ngay_lap"], rows[1]["dan_so_5"], rows[1]["email"]) == (dt.date(2021, 1, 2), -3, "")
    assert rows[1]["nguoi_lap"] is None and rows[1]["ten_don_vi"] is None


def test_publishing_scripts_take_their_ids_as_integers_and_only_where_named():
    script = load._publish_script("publish.sql", winner_ids=[7, 3], batch_first_id=[3], batch_last_id=[9])
    assert "where winner.submission_id in (7,3)" in script
    assert "between 3 and 9" in script
    assert ":winner_ids" not in script and ":batch_first_id" not in script
    with pytest.raises(ValueError):
        load._publish_script("publish.sql", winner_ids=["1) or (true"], batch_first_id=[1], batch_last_id=[1])
    retire = load._publish_script("retire_replaced.sql", replaced_ids=[5], replaced_first_id=[5],
                                  replaced_last_id=[5])
    assert "in (5)" in retire and "between 5 and 5" in retire and ":replaced" not in retire
