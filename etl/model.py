"""Plain data shared by every stage: what a workbook read gives, and one data-quality finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

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


@dataclass
class ParsedWorkbook:
    """A district workbook as read, before validation.

    `header` holds the ThongTin values by key, typed (codes and texts as str, counts as int,
    `ngay_lap` as datetime.date, `ky_bao_cao` as `HKI`/`CN`); a value that could not be read
    is absent and has a finding. `tables` maps the canonical sheet name (TruongLop, DoiNgu,
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
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    sheet_names: dict[str, str] = field(default_factory=dict)
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    # canonical sheet -> template key -> 1-based Excel column the key was read from (for cell references)
    column_positions: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def period(self) -> tuple[str | None, str | None, str | None]:
        return (self.header.get("ma_don_vi"), self.header.get("nam_hoc"), self.header.get("ky_bao_cao"))

    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)
