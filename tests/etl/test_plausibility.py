"""etl/plausibility.py: year-on-year change of district totals and cross-district outliers, on tiny frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from etl.plausibility import outlier_findings, yoy_change_findings

# Current submissions school by school (two schools of 116, one of 118); previous CN already per district.
CURRENT = pd.DataFrame(
    {
        "submission_id": [7, 7, 8],
        "ma_don_vi": ["116", "116", "118"],
        "ma_truong": ["14116001", "14116002", "14118001"],
        "gv_tong": [10, 30, 20],
        "gv_nghi_huu": [1, 1, 0],
        "tre_nha_tre": [5, 5, 7],
    }
)
PREVIOUS = pd.DataFrame(
    {"ma_don_vi": ["116", "118"], "gv_tong": [30, 20], "gv_nghi_huu": [0, 0], "tre_nha_tre": [10, None]}
)


def test_yoy_change_beyond_30_percent_is_a_warning():
    found = yoy_change_findings(CURRENT, PREVIOUS)
    gv = found[found["column_key"] == "gv_tong"].iloc[0]
    assert (gv["submission_id"], gv["ma_don_vi"], gv["previous"], gv["current"]) == (7, "116", 30, 40)
    assert gv["change"] == pytest.approx(1 / 3)
    assert (gv["severity"], gv["rule"]) == ("warning", "yoy_change")
    assert "'Tổng số giáo viên'" in gv["message"] and "+33,3 %" in gv["message"] and "30 %" in gv["message"]


def test_yoy_change_within_threshold_or_without_history_is_not_reported():
    found = yoy_change_findings(CURRENT, PREVIOUS)
    # 116 tre_nha_tre 10 -> 10 unchanged; 118 gv_tong unchanged; 118 tre_nha_tre has no previous figure.
    assert set(zip(found["ma_don_vi"], found["column_key"], strict=True)) == {
        ("116", "gv_tong"),
        ("116", "gv_nghi_huu"),
    }


def test_yoy_change_from_zero_is_infinite():
    found = yoy_change_findings(CURRENT, PREVIOUS)
    row = found[found["column_key"] == "gv_nghi_huu"].iloc[0]
    assert math.isinf(row["change"]) and "năm trước bằng 0" in row["message"]


def test_yoy_change_threshold_per_column():
    found = yoy_change_findings(CURRENT, PREVIOUS, {"gv_tong": 0.5, "default": 10})
    assert list(found["column_key"]) == ["gv_nghi_huu"]  # inf beats any threshold
    assert yoy_change_findings(CURRENT, PREVIOUS, 0.34)["column_key"].tolist() == ["gv_nghi_huu"]


def test_yoy_change_drop_is_reported_with_its_sign():
    previous = PREVIOUS.assign(gv_tong=[100, 20])
    row = yoy_change_findings(CURRENT, previous).query("column_key == 'gv_tong'").iloc[0]
    assert row["change"] == pytest.approx(-0.6) and "−60 %" in row["message"]


def _values(numbers, indicator="gv_dat_chuan_td"):
    return pd.DataFrame(
        {
            "ma_don_vi": [f"{116 + i}" for i in range(len(numbers))],
            "indicator": indicator,
            "nam_hoc": "2019-2020",
            "value": numbers,
        }
    )


def test_outlier_by_modified_z_score():
    found = outlier_findings(_values([50, 52, 49, 51, 50, 53, 48, 95.0]))
    assert found["ma_don_vi"].tolist() == ["123"]
    row = found.iloc[0]
    # median 50.5, MAD 1.5: M = 0.6745 * 44.5 / 1.5 = 20.0
    assert row["z"] == pytest.approx(0.6745 * 44.5 / 1.5)
    assert (row["severity"], row["rule"]) == ("warning", "outlier")
    assert "gv_dat_chuan_td" in row["message"] and "95" in row["message"]


def test_no_outlier_inside_the_cut_off():
    # M of 58 = 0.6745 * 7.5 / 1.5 = 3.37 < 3.5
    assert outlier_findings(_values([50, 52, 49, 51, 50, 53, 48, 58.0])).empty


def test_outlier_when_most_values_are_equal_uses_the_mean_deviation():
    found = outlier_findings(_values([100, 100, 100, 100, 100, 100, 40.0]))  # MAD = 0
    assert found["ma_don_vi"].tolist() == ["122"]


def test_outliers_are_judged_within_each_indicator_and_need_enough_districts():
    values = pd.concat(
        [_values([50, 52, 49, 51, 50, 53, 48, 95.0]), _values([1, 2, 300.0], indicator="few")], ignore_index=True
    )
    assert outlier_findings(values)["indicator"].tolist() == ["gv_dat_chuan_td"]
    assert outlier_findings(_values([5.0] * 6)).empty


def test_yoy_change_compares_each_year_with_the_year_before_it_only():
    # One district, two school years of current files; the previous frame holds both years before them.
    current = pd.DataFrame({"submission_id": [1, 2], "ma_don_vi": ["116", "116"],
                            "nam_hoc": ["2019-2020", "2020-2021"], "gv_tong": [40, 41]})
    previous = pd.DataFrame({"ma_don_vi": ["116", "116"], "nam_hoc": ["2018-2019", "2019-2020"],
                             "gv_tong": [40, 10]})
    found = yoy_change_findings(current, previous)
    # 2019-2020 (40) against 2018-2019 (40): no change; 2020-2021 (41) against 2019-2020 (10): +310 %.
    assert found[["submission_id", "nam_hoc", "previous", "current"]].values.tolist() == [
        [2, "2020-2021", 10, 41]]


def test_ranks_are_not_compared_across_the_year_rank_iv_was_abolished():
    # Thông tư 01/2021: from 2021-2022 rank IV teachers are rank III or unranked, in every district. Telling each
    # district that its ranks changed by -100 % and +150 % and asking it to explain is noise; a change of the
    # total, or of the ranks the year after, is still reported.
    current = pd.DataFrame({"submission_id": [1, 2], "ma_don_vi": ["116", "116"],
                            "nam_hoc": ["2021-2022", "2022-2023"], "gv_tong": [100, 100],
                            "gv_hang_3": [80, 40], "gv_hang_4": [0, 0], "gv_chua_xep_hang": [20, 60]})
    previous = pd.DataFrame({"ma_don_vi": ["116", "116"], "nam_hoc": ["2020-2021", "2021-2022"],
                             "gv_tong": [60, 100], "gv_hang_3": [20, 80], "gv_hang_4": [38, 0],
                             "gv_chua_xep_hang": [2, 20]})
    found = yoy_change_findings(current, previous)
    assert found[["nam_hoc", "column_key"]].values.tolist() == [
        ["2021-2022", "gv_tong"], ["2022-2023", "gv_chua_xep_hang"], ["2022-2023", "gv_hang_3"]]
