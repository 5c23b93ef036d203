"""Plausibility against history and across districts, fetched set-based from the warehouse.

The rules themselves are pure pandas (etl/plausibility.py); this module only fetches what they compare
against and turns their rows into findings on the right submission.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from etl import locks
from etl.config import ProvinceConfig
from etl.layout import load_layout
from etl.model import Finding, ParsedWorkbook, stack_tables
from etl.plausibility import outlier_findings, previous_school_year, yoy_change_findings

SCHOOL_SHEETS = ("TruongLop", "DoiNgu", "DanhGiaChuan", "BoiDuong")
__all__ = ["add_yoy_findings", "flag_outliers", "previous_school_year"]


def _current_rows(workbooks: list[ParsedWorkbook]) -> pd.DataFrame:
    """The school rows of the workbooks, each with its position in the list (`submission_id`), district and
    school year."""
    districts = np.array([workbook.header["ma_don_vi"] for workbook in workbooks], dtype=object)
    years = np.array([workbook.header["nam_hoc"] for workbook in workbooks], dtype=object)
    parts = []
    for sheet in SCHOOL_SHEETS:
        stacked = stack_tables(workbooks, sheet)
        if stacked is not None:
            frame, owners = stacked
            parts.append(frame.assign(submission_id=owners, ma_don_vi=districts[owners], nam_hoc=years[owners]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _chunk_previous(connection: sa.Connection, candidates: list[ParsedWorkbook],
                    periods: set[tuple[str, str]]) -> dict[tuple[str, str], ParsedWorkbook]:
    """The previous years this chunk itself brings (a district's correction of last year sent with this
    year's file, a backfill of several years): per district and school year of `periods`, the chunk's last
    error-free CN file for it, which publishing will make current, unless its period is locked (then it is
    held, and the warehouse's stays current)."""
    locked = locks.locked_periods(connection)
    latest = {(wb.header["ma_don_vi"], wb.header["nam_hoc"]): wb for wb in candidates
              if (wb.header["nam_hoc"], "CN") not in locked}  # in order of arrival: the last one wins
    return {period: wb for period, wb in latest.items() if period in periods}


def _previous_rows(connection: sa.Connection, periods: set[tuple[str, str]]) -> pd.DataFrame:
    """School rows of each district's current accepted CN submission of the given school years."""
    if not periods:
        return pd.DataFrame()
    return pd.read_sql(
        # the current submission's staged schools, each fact by its primary key (migration 0011)
        sa.text("select f.* from core.current_submission as cs "
                "join unnest(cast(:districts as text[]), cast(:years as text[])) as p(ma_don_vi, nam_hoc) "
                "using (ma_don_vi, nam_hoc) "
                "join staging.truong_lop as s on s.submission_id = cs.submission_id "
                "join core.fact_school_period as f on f.ma_truong = s.ma_truong and f.nam_hoc = cs.nam_hoc "
                "and f.ky_bao_cao = cs.ky_bao_cao and f.submission_id = cs.submission_id "
                "where cs.ky_bao_cao = 'CN'"),
        connection,
        params={"districts": [d for d, _ in periods], "years": [y for _, y in periods]},
    )


def add_yoy_findings(connection: sa.Connection, province: ProvinceConfig, workbooks: list[ParsedWorkbook]) -> None:
    """Warn (yoy_change) where a CN submission's district total of a count column moved by more than the
    province threshold against the district's accepted CN submission of the previous school year.

    Only CN is compared: HKI is mid-year (ratings may be empty), so comparing it with a full year would
    warn about what is normal."""
    candidates = [wb for wb in workbooks if not wb.has_errors() and wb.header.get("ky_bao_cao") == "CN"
                  and wb.header.get("ma_don_vi") and wb.header.get("nam_hoc")]
    if not candidates:
        return
    periods = {(wb.header["ma_don_vi"], previous_school_year(wb.header["nam_hoc"])) for wb in candidates}
    # Each file is compared with its own previous year only (the frames carry nam_hoc): a night may bring
    # several years of a district, and the previous year's version is the one this chunk makes current, if
    # it brings one, else the warehouse's current one.
    in_chunk = _chunk_previous(connection, candidates, periods)
    parts = [_previous_rows(connection, periods - in_chunk.keys()),
             _current_rows(list(in_chunk.values())).drop(columns="submission_id", errors="ignore")]
    parts = [part for part in parts if not part.empty]
    if not parts:
        return
    previous = pd.concat(parts, ignore_index=True)
    found = yoy_change_findings(_current_rows(candidates), previous, province.meta.get("yoy_change_threshold", 0.30))
    # A small district's small counts swing by more than 30 % on one or two people (2 of 6 managers);
    # below the province's minimum absolute change that is noise, not a finding (docs/architecture.md).
    minimum = float(province.meta.get("yoy_min_absolute_change", 0))
    found = found[(found["current"] - found["previous"]).abs() >= minimum]
    sheet_of = {c.key: s.name for s in load_layout().sheets.values() if s.name in SCHOOL_SHEETS for c in s.columns}
    for row in found.to_dict("records"):
        workbook = candidates[int(row["submission_id"])]
        sheet = sheet_of.get(row["column_key"])
        workbook.findings.append(Finding(
            severity=row["severity"], rule=row["rule"], message=row["message"],
            sheet=workbook.sheet_names.get(sheet, sheet), column_key=row["column_key"],
            value=f"{row['current']:g}",
        ))


def flag_outliers(engine: sa.Engine, province: ProvinceConfig, submission_ids: list[int]) -> int:
    """Record cross-district outliers (warning `outlier`) of the periods of the given submissions, on the
    current submission of each outlying district; returns the number of findings recorded.

    Runs after the roll-up, on mart.district_indicator: one robust comparison per indicator and period.
    When the districts are all close together their spread is tiny and the z-score flags trivia (20.7 %
    against a median of 20.3 %); a value is therefore reported only when it is also at least the province's
    `outlier_min_deviation` away from the median (percentage points for %, units for ratios)."""
    if not submission_ids:
        return 0
    minimum = {"percent": 5.0, "ratio": 0.25, **province.meta.get("outlier_min_deviation", {})}
    with engine.begin() as c:
        values = pd.read_sql(sa.text(
            "select di.ma_don_vi, di.nam_hoc, di.ky_bao_cao, di.indicator, di.value, cs.submission_id, "
            "i.label_vi, i.unit from mart.district_indicator di "
            "join core.current_submission cs using (ma_don_vi, nam_hoc, ky_bao_cao) "
            "join core.indicator i using (indicator) where i.unit <> 'count' and (di.nam_hoc, di.ky_bao_cao) in "
            "(select nam_hoc, ky_bao_cao from dq.submission where submission_id = any(:ids))"),
            c, params={"ids": submission_ids})
        found = outlier_findings(values)
        found = found[found["submission_id"].isin(submission_ids)]
        found = found[(found["value"] - found["median"]).abs() >= found["unit"].map(minimum).astype(float)]
        # Flagging the same submissions again (the roll-up task retried after this committed, an operator
        # clearing it) replaces their outliers: before, each run added them again, and the district's e-mail
        # and n_warnings counted every one twice.
        replaced = c.execute(sa.text("delete from dq.issue where submission_id = any(:ids) and rule = 'outlier'"),
                             {"ids": submission_ids}).rowcount
        rows = [{"submission_id": int(r["submission_id"]), "severity": r["severity"], "rule": r["rule"],
                 "value": f"{r['value']:g}",
                 # the indicator's Vietnamese label, for the district; its code stays in brackets for the Sở
                 "message": r["message"].replace(f"'{r['indicator']}'", f"'{r['label_vi']}' ({r['indicator']})")}
                for r in found.to_dict("records")]
        if not rows and not replaced:
            return 0
        if rows:
            c.execute(sa.text("insert into dq.issue (submission_id, severity, rule, value, message) "
                              "values (:submission_id, :severity, :rule, :value, :message)"), rows)
        c.execute(sa.text("update dq.submission s set n_warnings = (select count(*) from dq.issue i where "
                          "i.submission_id = s.submission_id and i.severity = 'warning') "
                          "where s.submission_id = any(:ids)"), {"ids": submission_ids})
    return len(found)
