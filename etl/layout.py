"""The template layout as data: sheets, columns, labels, aliases, types (etl/layouts/)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import yaml

LAYOUT_DIR = Path(__file__).parent / "layouts"
# A folder of layouts to use instead of LAYOUT_DIR (a Sở trying a new template version, a test's v2)
LAYOUT_DIR_ENV = "TONGHOP_LAYOUT_DIR"
VERSIONS_FILE = "versions.yaml"  # which versions are accepted, and which one the Sở hands out
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
    name: str  # the sheet's identity in every version (rules, staging table, code): TruongLop, DoiNgu...
    kind: str  # key_value | school_table | row_table
    required_in: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    table: str  # the warehouse table name (staging.<table>)
    row_key: str = "ma_truong"
    written_as: str = ""  # the name this version's template gives the sheet (its identity when not renamed)
    aliases: tuple[str, ...] = ()  # other names the sheet is read under (its name in an earlier version)
    title: str = ""  # the title row the template writes above the table
    ratio_marks: tuple[str, ...] = ()  # the layout's: a header holding one names no column of the sheet
    count_sublabels: tuple[str, ...] = ()  # the layout's: under a count column's label merged wider, its count
    narrowing_notes: tuple[str, ...] = ()  # the layout's: a label's note holding one names no column (`(nữ)`)
    header_terms: tuple[HeaderTerm, ...] = ()  # the layout's: the words of a header over several rows
    header_fillers: tuple[str, ...] = ()  # the layout's: words that say nothing in such a header
    header_of_which: tuple[str, ...] = ()  # the layout's: a sub-label beginning so is a part of the total above it

    def __post_init__(self) -> None:
        if not self.written_as:
            object.__setattr__(self, "written_as", self.name)

    @property
    def sheet_names(self) -> tuple[str, ...]:
        """The names the sheet is read under: this version's, then its aliases."""
        return (self.written_as, *self.aliases)

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

    def written_name(self, sheet: str) -> str:
        """The name this version's template gives a sheet (by its identity); an unknown name as it is."""
        spec = self.sheets.get(sheet)
        return spec.written_as if spec is not None else sheet


@dataclass(frozen=True)
class TemplateVersions:
    """The template versions the reader accepts (`layouts/versions.yaml`), each with its layout, and the one
    the Sở hands out (`current`: the blank template, the demo, what a file with no readable version is read as)."""

    current: str
    accepted: tuple[str, ...]
    folder: Path

    def layout(self, version: str | None = None) -> Layout:
        version = version or self.current
        if version not in self.accepted:
            raise ValueError(f"Phiên bản biểu mẫu '{version}' không có trong danh sách phiên bản được nhận "
                             f"({', '.join(self.accepted)}; {self.folder / VERSIONS_FILE}).")
        return _read_layout(self.folder, version)

    @property
    def layouts(self) -> dict[str, Layout]:
        """Every accepted version's layout, the current one first."""
        order = (self.current, *(v for v in self.accepted if v != self.current))
        return {version: self.layout(version) for version in order}


def combined_layout() -> Layout:
    """The current layout, each sheet with the columns of every accepted version (a column the current version
    lacks after its own): the columns a night's files may bring, which validation and staging take. A column of
    one version only is empty (NULL) in the others' rows."""
    return _combined(template_versions())


@cache
def _combined(versions: TemplateVersions) -> Layout:
    layouts = list(versions.layouts.values())
    current = layouts[0]
    if len(layouts) == 1:
        return current
    sheets = {}
    for name, spec in current.sheets.items():
        columns: dict[str, ColumnSpec] = {}
        for layout in layouts:
            for column in layout.sheets[name].columns:
                columns.setdefault(column.key, column)
        sheets[name] = replace(spec, columns=tuple(columns.values()))
    return replace(current, sheets=sheets)


def layout_dir() -> Path:
    """LAYOUT_DIR, or the folder named by TONGHOP_LAYOUT_DIR."""
    folder = os.environ.get(LAYOUT_DIR_ENV, "").strip()
    return Path(folder) if folder else LAYOUT_DIR


def template_versions() -> TemplateVersions:
    return _read_versions(layout_dir())


@cache
def _read_versions(folder: Path) -> TemplateVersions:
    spec = yaml.safe_load((folder / VERSIONS_FILE).read_text(encoding="utf-8"))
    accepted = tuple(str(v) for v in spec["accepted"])
    current = str(spec["current"])
    if current not in accepted:
        raise ValueError(f"{folder / VERSIONS_FILE}: phiên bản hiện hành '{current}' không có trong danh sách "
                         f"'accepted'.")
    versions = TemplateVersions(current, accepted, folder)
    problems = version_problems(versions)
    if problems:
        raise ValueError(f"{folder}: các phiên bản biểu mẫu không khớp nhau:\n" + "\n".join(problems))
    return versions


def version_problems(versions: TemplateVersions) -> list[str]:
    """What would make files of the accepted versions disagree in the warehouse: a sheet (by its identity) of one
    version that another lacks or stores in another table, or a column key typed differently in two versions
    (they share one staging column). A new warehouse column is a migration; a new sheet is more (docs)."""
    layouts = [_read_layout(versions.folder, version) for version in versions.accepted]
    first, problems = layouts[0], []
    types: dict[tuple[str, str], tuple[str, str]] = {}
    for layout in layouts:
        if set(layout.sheets) != set(first.sheets):
            problems.append(f"- {layout.template_version} có các trang {sorted(layout.sheets)}, "
                            f"{first.template_version} có {sorted(first.sheets)}.")
        for name, spec in layout.sheets.items():
            if name in first.sheets and spec.table != first.sheets[name].table:
                problems.append(f"- trang {name}: bảng {spec.table} ({layout.template_version}) và "
                                f"{first.sheets[name].table} ({first.template_version}).")
            for column in spec.columns:
                seen = types.setdefault((name, column.key), (column.type, layout.template_version))
                if seen[0] != column.type:
                    problems.append(f"- cột {name}.{column.key}: kiểu {column.type} ({layout.template_version}) "
                                    f"và {seen[0]} ({seen[1]}).")
    return problems


def load_layout(template_version: str | None = None) -> Layout:
    """The layout of a template version (by default the current one, `layouts/versions.yaml`)."""
    return template_versions().layout(template_version)


def layout_of(template_version: str | None) -> Layout:
    """The layout a file of this version was read with: its own when accepted, else the current one (the
    version is then reported, `wrong_template_version`)."""
    versions = template_versions()
    return versions.layout(template_version if template_version in versions.accepted else None)


@cache
def _read_layout(folder: Path, template_version: str) -> Layout:
    """Read `<folder>/<version>.yaml` and its column list."""
    spec = yaml.safe_load((folder / f"{template_version}.yaml").read_text(encoding="utf-8"))
    if str(spec["template_version"]) != template_version:
        raise ValueError(f"{folder}/{template_version}.yaml declares template_version {spec['template_version']}")
    with open(folder / spec["columns_file"], encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    # the layout's words for reading headers: the layout's, and each of its sheets' (the header reader has a sheet)
    header_words = {
        "ratio_marks": tuple(spec.get("ratio_marks", ())),
        "count_sublabels": tuple(spec.get("count_sublabels", ())),
        "narrowing_notes": tuple(spec.get("narrowing_notes", ())),
        "header_terms": tuple(HeaderTerm(t["term"], tuple(t["spellings"]), t.get("implies"))
                              for t in spec.get("header_terms", ())),
        "header_fillers": tuple(spec.get("header_fillers", ())),
        "header_of_which": tuple(spec.get("header_of_which", ())),
    }
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
            written_as=str(sheet.get("written_as") or name),
            aliases=tuple(str(a) for a in sheet.get("aliases", ())),
            title=str(sheet.get("title", "")),
            **header_words,
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
        **header_words,
        yoy_reclassified={str(k): tuple(v) for k, v in spec.get("yoy_reclassified", {}).items()},
    )
