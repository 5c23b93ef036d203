"""Cross-file plausibility (warnings): rules that compare a submission with other submissions.

Set-based pandas over frames the caller fetches from the warehouse; nothing here reads files or the
database. Both functions return one row per finding with `severity`, `rule` and a Vietnamese
`message` (templates in etl/messages.py), ready for dq.issue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.layout import load_layout
from etl.messages import RULES, format_value, render

YOY_THRESHOLD = 0.30
OUTLIER_THRESHOLD = 3.5  # Iglewicz & Hoaglin's cut-off for the modified z-score
OUTLIER_MIN_VALUES = 5  # fewer districts than this: a median and MAD say nothing
_MAD_SCALE = 0.6745  # MAD of the standard normal: makes M comparable to a z-score
_MEAN_AD_SCALE = 1.253314  # sqrt(pi/2), when more than half of the values are equal (MAD = 0)
_PERIOD_COLUMNS = ("nam_hoc", "ky_bao_cao")


def yoy_change_findings(
    current: pd.DataFrame, previous: pd.DataFrame, threshold: float | dict[str, float] = YOY_THRESHOLD
) -> pd.DataFrame:
    """District totals that moved by more than `threshold` against the previous school year (rule yoy_change).

    `current`: rows of the current submissions, one per school (or already one per district), with
    `ma_don_vi`, any template count columns (`gv_tong`, `tre_mau_giao`, ...) and optionally
    `submission_id` (carried into the result). `previous`: the same columns for each district's
    accepted CN submission of the previous school year. When both frames have `nam_hoc`, a current row
    is compared only with its district's rows of the school year before its own (the previous frame
    may hold several years of a district: a night's files can span years); without it, with every
    previous row of its district. Columns other than template count keys are ignored; a count column
    is compared when it is in both frames; a district without previous data is skipped. A column a national
    reform redistributed in a school year (the layout's `yoy_reclassified`: rank IV abolished from 2021-2022)
    is not compared between that year and the one before, when the frames say the year. `threshold` is
    a fraction (0.30 = 30 %), or a dict by column key with an optional `"default"` entry.

    Returns one row per (district, column) beyond the threshold: `submission_id` (when given),
    `ma_don_vi`, `column_key`, `previous`, `current`, `change` (fraction; inf when the previous
    total was 0), `severity`, `rule`, `message`.
    """
    counts = [c for c in _count_keys() if c in current and c in previous]
    by_year = "nam_hoc" in current and "nam_hoc" in previous
    keys = ["submission_id", "ma_don_vi"] if "submission_id" in current else ["ma_don_vi"]
    keys += ["nam_hoc"] if by_year else []
    now = _long_totals(current, keys, counts, "current")
    before = _long_totals(previous, ["ma_don_vi", *(["nam_hoc"] if by_year else [])], counts, "previous")
    if by_year:  # each year with the one before it, never with itself or an older one
        before = before.assign(nam_hoc=before["nam_hoc"].map(next_school_year))
    joined = now.merge(before, on=["ma_don_vi", *(["nam_hoc"] if by_year else []), "column_key"], how="inner")
    if by_year:  # a reform moved these counts between columns that year, in every district (the layout's data)
        reclassified = {(y, c) for y, cols in load_layout().yoy_reclassified.items() for c in cols}
        joined = joined[[(y, c) not in reclassified for y, c in zip(joined["nam_hoc"], joined["column_key"],
                                                                       strict=True)]]
    change = (joined["current"] - joined["previous"]) / joined["previous"].where(joined["previous"] != 0)
    grew_from_zero = (joined["previous"] == 0) & (joined["current"] > 0)
    joined["change"] = change.mask(grew_from_zero, np.inf).fillna(0.0)
    limits = joined["column_key"].map(lambda k: _threshold(threshold, k))
    found = joined[joined["change"].abs() > limits].assign(threshold=limits)
    found = found.sort_values(keys + ["column_key"], ignore_index=True)
    labels = _labels()
    rule = RULES["yoy_change"]
    found["message"] = [
        render(
            rule.message,
            {
                "label": labels.get(r["column_key"], r["column_key"]),
                "ma_don_vi": r["ma_don_vi"],
                "current": format_value(float(r["current"])),
                "previous": format_value(float(r["previous"])),
                "change": _percent(r["change"], signed=True),
                "threshold": _percent(r["threshold"]),
            },
        )
        for r in found.to_dict("records")
    ]
    found["severity"], found["rule"] = rule.severity, rule.code
    return found[keys + ["column_key", "previous", "current", "change", "severity", "rule", "message"]]


def previous_school_year(nam_hoc: str) -> str:
    start = int(nam_hoc[:4]) - 1
    return f"{start}-{start + 1}"


def next_school_year(nam_hoc: str) -> str:
    start = int(nam_hoc[:4]) + 1
    return f"{start}-{start + 1}"


def outlier_findings(
    values: pd.DataFrame, *, threshold: float = OUTLIER_THRESHOLD, min_values: int = OUTLIER_MIN_VALUES
) -> pd.DataFrame:
    """Districts whose indicator value is far from the other districts' (rule outlier).

    `values`: one row per district and indicator with `ma_don_vi`, `indicator` (a code of
    indicators.md) and `value` (numeric; empty values are skipped), optionally `nam_hoc` and
    `ky_bao_cao` (indicators are compared within the same period) and `submission_id` (carried).

    Modified z-score (Iglewicz & Hoaglin 1993, as DHIS2 offers): M = 0.6745 (x - median) / MAD,
    outlier when |M| > `threshold`. When MAD is 0 (more than half of the districts share one
    value) the mean absolute deviation stands in: M = (x - median) / (1.253314 * meanAD); when that
    is 0 too, all values are equal and nothing is an outlier. Groups with fewer than `min_values`
    values are skipped.

    Returns one row per outlier: the input columns, `median`, `z` (M), `severity`, `rule`, `message`.
    """
    groups = ["indicator", *[c for c in _PERIOD_COLUMNS if c in values]]
    data = values[values["value"].notna()].copy()
    data["value"] = data["value"].astype("float64")
    by = data.groupby(groups)["value"]
    data["median"] = by.transform("median")
    deviation = (data["value"] - data["median"]).abs()
    dev_by = deviation.groupby([data[g] for g in groups])
    mad, mean_ad = dev_by.transform("median"), dev_by.transform("mean")
    scale = (mad / _MAD_SCALE).where(mad > 0, _MEAN_AD_SCALE * mean_ad)
    data["z"] = ((data["value"] - data["median"]) / scale.where(scale > 0)).fillna(0.0)
    enough = by.transform("count") >= min_values
    found = data[enough & (data["z"].abs() > threshold)].sort_values(groups + ["ma_don_vi"], ignore_index=True)
    rule = RULES["outlier"]
    found["message"] = [
        render(
            rule.message,
            {
                "indicator": r["indicator"],
                "ma_don_vi": r["ma_don_vi"],
                "value": format_value(float(r["value"])),
                "median": format_value(float(r["median"])),
                "z": format_value(round(float(r["z"]), 1)),
            },
        )
        for r in found.to_dict("records")
    ]
    found["severity"], found["rule"] = rule.severity, rule.code
    return found


def _long_totals(frame: pd.DataFrame, keys: list[str], counts: list[str], name: str) -> pd.DataFrame:
    numbers = frame[keys + counts].copy()
    numbers[counts] = numbers[counts].apply(pd.to_numeric, errors="coerce").astype("float64")
    totals = numbers.groupby(keys, as_index=False)[counts].sum(min_count=1)
    long = totals.melt(id_vars=keys, value_vars=counts, var_name="column_key", value_name=name)
    return long[long[name].notna()]


def _threshold(threshold: float | dict[str, float], column: str) -> float:
    if isinstance(threshold, dict):
        return float(threshold.get(column, threshold.get("default", YOY_THRESHOLD)))
    return float(threshold)


def _percent(fraction: float, signed: bool = False) -> str:
    if np.isinf(fraction):
        return "+∞ (năm trước bằng 0)" if signed else "∞"
    text = format_value(round(abs(fraction) * 100, 1)) + " %"
    if signed:
        return ("+" if fraction > 0 else "−") + text
    return text


def _count_keys() -> list[str]:
    layout = load_layout()
    return list(dict.fromkeys(k for s in layout.sheets.values() for k in s.count_keys))


def _labels() -> dict[str, str]:
    return {c.key: c.label_vi for s in load_layout().sheets.values() for c in s.columns}
