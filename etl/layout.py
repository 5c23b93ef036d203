"""The template layout as data: sheets, columns, labels, aliases, types (etl/layouts/)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

LAYOUT_DIR = Path(__file__).parent / "layouts"
DEFAULT_TEMPLATE_VERSION = "DA33-MN-v1"
COUNT_TYPES = ("int",)


@dataclass(frozen=True)
class ColumnSpec:
    sheet: str
    key: str
    label_vi: str
    type: str  # code | text | school_year | int | decimal | enum | flag | date
    required: bool
    aliases: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label_vi, *self.aliases)


@dataclass(frozen=True)
class HeaderTerm:
    """A word of a header written over several rows (`GV`, `ĐH`), its spellings, and the broader term it implies
    (`ĐH` is a qualification: `trinh_do`)."""

    term: str
    spellings: tuple[str, ...]
    implies: str | None = None


@dataclass(frozen=True)
class SheetSpec:
    name: str
    kind: str  # key_value | school_table | row_table
    required_in: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    table: str  # the warehouse table name (staging.<table>)
    row_key: str = "ma_truong"
    ratio_marks: tuple[str, ...] = ()  # the layout's: a header holding one names no column of the sheet
    count_sublabels: tuple[str, ...] = ()  # the layout's: under a count column's label merged wider, its count
    narrowing_notes: tuple[str, ...] = ()  # the layout's: a label's note holding one names no column (`(nữ)`)
    header_terms: tuple[HeaderTerm, ...] = ()  # the layout's: the words of a header over several rows
    header_fillers: tuple[str, ...] = ()  # the layout's: words that say nothing in such a header
    header_of_which: tuple[str, ...] = ()  # the layout's: a sub-label beginning so is a part of the total above it

    def column(self, key: str) -> ColumnSpec:
        return next(c for c in self.columns if c.key == key)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def count_keys(self) -> list[str]:
        return [c.key for c in self.columns if c.type in COUNT_TYPES]


@dataclass(frozen=True)
class Layout:
    template_version: str
    header_search_rows: int
    sheets: dict[str, SheetSpec]
    totals_labels: tuple[str, ...]
    enums: dict[str, dict[str, tuple[str, ...]]]
    flags: dict[int, tuple[str, ...]]
    totals_qualifiers: tuple[str, ...] = ()  # words after a totals label that keep it one (`toàn huyện`)
    code_widths: dict[str, int] = field(default_factory=dict)  # codes of a fixed number of digits
    ratio_marks: tuple[str, ...] = ()  # words or signs that make a header a ratio (`%`, `tỷ lệ`): no column
    count_sublabels: tuple[str, ...] = ()  # `SL`, `Số lượng` under a label merged over its count and a ratio
    narrowing_notes: tuple[str, ...] = ()  # `nữ`, `KH`, `năm trước` in a label's note: a part or another time
    header_terms: tuple[HeaderTerm, ...] = ()  # `CBQL`, `ĐH`, `BC`...: a group label and its sub-labels read together
    header_fillers: tuple[str, ...] = ()  # `số`, `trong đó`: words that say nothing in a header over several rows
    header_of_which: tuple[str, ...] = ()  # `trong đó`: under `Tổng số GV`, a sub-label so begun is a part of it
    # school year -> count columns a national reform redistributed that year (not compared with the year before)
    yoy_reclassified: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def table_sheets(self) -> list[SheetSpec]:
        return [s for s in self.sheets.values() if s.kind != "key_value"]

    @property
    def school_sheets(self) -> list[SheetSpec]:
        return [s for s in self.sheets.values() if s.kind == "school_table"]


@cache
def load_layout(template_version: str = DEFAULT_TEMPLATE_VERSION) -> Layout:
    """Read `layouts/<version>.yaml` and its column list."""
    spec = yaml.safe_load((LAYOUT_DIR / f"{template_version}.yaml").read_text(encoding="utf-8"))
    with open(LAYOUT_DIR / spec["columns_file"], encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    ratio_marks = tuple(spec.get("ratio_marks", ()))
    count_sublabels = tuple(spec.get("count_sublabels", ()))
    narrowing_notes = tuple(spec.get("narrowing_notes", ()))
    header_terms = tuple(HeaderTerm(t["term"], tuple(t["spellings"]), t.get("implies"))
                         for t in spec.get("header_terms", ()))
    header_fillers = tuple(spec.get("header_fillers", ()))
    header_of_which = tuple(spec.get("header_of_which", ()))
    sheets = {}
    for name, sheet in spec["sheets"].items():
        columns = tuple(
            ColumnSpec(
                sheet=name,
                key=r["key"],
                label_vi=r["label_vi"],
                type=r["type"],
                required=r["column_required"] == "yes",
                aliases=tuple(a for a in r["aliases"].split("|") if a),
            )
            for r in rows
            if r["sheet"] == name
        )
        sheets[name] = SheetSpec(
            name=name,
            kind=sheet["kind"],
            required_in=tuple(sheet["required_in"]),
            columns=columns,
            table=sheet["table"],
            row_key=sheet.get("row_key", "ma_truong"),
            ratio_marks=ratio_marks,
            count_sublabels=count_sublabels,
            narrowing_notes=narrowing_notes,
            header_terms=header_terms,
            header_fillers=header_fillers,
            header_of_which=header_of_which,
        )
    return Layout(
        template_version=spec["template_version"],
        header_search_rows=spec["header_search_rows"],
        sheets=sheets,
        totals_labels=tuple(spec["totals_labels"]),
        totals_qualifiers=tuple(spec.get("totals_qualifiers", ())),
        enums={k: {key: tuple(v) for key, v in m.items()} for k, m in spec["enums"].items()},
        flags={int(k): tuple(v) for k, v in spec["flags"].items()},
        code_widths={k: int(v) for k, v in spec.get("code_widths", {}).items()},
        ratio_marks=ratio_marks,
        count_sublabels=count_sublabels,
        narrowing_notes=narrowing_notes,
        header_terms=header_terms,
        header_fillers=header_fillers,
        header_of_which=header_of_which,
        yoy_reclassified={str(k): tuple(v) for k, v in spec.get("yoy_reclassified", {}).items()},
    )
