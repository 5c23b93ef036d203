"""Data-quality rules of the district workbook (shared/spec/submission-template.md), checked in batches.

Row rules are Great Expectations suites kept as data in `expectations/`, one per sheet plus
`cross_sheet.json`. Each expectation's `meta` holds its rule code, severity, the template column a
finding points to (`column`), the Vietnamese message and why the rule exists. Every workbook of a
batch is validated at once: the rows of one sheet of all workbooks are concatenated (column
`_submission` = position in the list, `_row` = Excel row) and each suite costs one validation call,
so a night of 700 files costs seven calls, not 4,900.

Frame conventions the suites rely on:
- every frame carries the submission's context: `_ma_don_vi`, `_nam_hoc`, `_ky_bao_cao`, and
  `_nam_dau` / `_nam_cuoi` (the two years of `nam_hoc` as numbers, empty when it is malformed);
- count, decimal and flag columns are float64, an unreadable cell is NaN (the reader reported it), and so
  is a cell of a reader finding in UNKNOWN_CELL_RULES (a negative count); every expectation skips missing
  values, so a cell is never reported twice;
- a suite's `meta.derived` maps new column names to pandas expressions over the frame
  (`"neg_gv_tong": "-gv_tong"`), computed before validation;
- `thong_tin` validates one row per workbook (the ThongTin values); its row numbers come from the
  header rows of the key the finding points to;
- `cross_sheet` validates one row per data row of its `meta.row_sheets` (column `_sheet`),
  left-joined on `meta.join_on` with the columns `meta.join` lists, named `<Sheet>__<key>`.

Rules that need the registry, several rows at once or other submissions (membership, completeness,
duplicates, names, the expected period) are vectorised pandas below; their messages are in
`etl/messages.py`. Cross-file plausibility is in `etl/plausibility.py`.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from etl.config import PROJECT_ROOT, TZ, ProvinceConfig
from etl.layout import TemplateVersions, combined_layout, layout_of, load_layout, template_versions
from etl.messages import INGEST_RULES, READER_RULES, RULES, format_value, location, render, render_for_docs, row_label
from etl.model import ROW_NUMBER, Finding, ParsedWorkbook, stack_tables
from etl.registry import FIRST_START_YEAR, LAST_START_YEAR, current_school_year

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
RULES_DOC = PROJECT_ROOT / "docs" / "rules.md"
SUITES = ("thong_tin", "truong_lop", "doi_ngu", "danh_gia_chuan", "boi_duong", "lop_boi_duong", "cross_sheet")
HEADER_SHEET = "ThongTin"
COMPLETE_SHEETS = ("TruongLop", "DoiNgu")  # every open registry school must have a row in these
PARTIAL_SHEETS = ("DanhGiaChuan", "BoiDuong")  # filled for some schools: the others are warned of
EVALUATION_SHEET = "DanhGiaChuan"  # required and non-empty in CN, may be empty in HKI
SUBMISSION = "_submission"
SHEET = "_sheet"
JOIN_SEPARATOR = "__"
DISTRICT_CODES_PARAMETER = "ma_don_vi_dang_ky"
VERSIONS_PARAMETER = "phien_ban_duoc_nhan"  # the accepted template versions (etl/layouts/versions.yaml)
NAM_HOC = re.compile(r"(\d{4})-(\d{4})")
NUMERIC_TYPES = ("int", "decimal", "flag")
# Reader findings whose cell keeps a value that is no count (a stray minus): the rules take the cell as
# unknown, as they do an unreadable one, so the finding is not repeated by every sum or bound it enters.
UNKNOWN_CELL_RULES = ("negative",)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words that carry no identity in a school or district name (compared without diacritics).
_GENERIC_NAME_WORDS = re.compile(
    r"\b(phong giao duc va dao tao|phong gd ?dt|pgd ?dt|phong gd|truong|mam non|mn|tu thuc|dan lap|cong lap"
    r"|huyen|thanh pho|tp|thi xa|tx|quan|thi tran)\b"
)


# (canonical sheet, submission, Excel row) of a row whose school code is mistyped -> (the code of the school
# its name is, that school's registry name): see `_mistyped_codes`
Mistyped = dict[tuple[str, int, int], tuple[str, str]]


@dataclass
class _Batch:
    """The workbooks of one validate_workbooks call, as concatenated frames."""

    workbooks: list[ParsedWorkbook]
    context: pd.DataFrame  # one row per submission
    sheets: dict[str, pd.DataFrame]  # canonical sheet -> rows of every workbook that has the sheet
    header: pd.DataFrame  # one row per submission: the ThongTin values


def validate_workbooks(
    workbooks: list[ParsedWorkbook],
    province: ProvinceConfig,
    *,
    expected_period: tuple[str, str] | None = None,
    today: dt.date | None = None,
) -> None:
    """Check every rule of the template that the reader does not, appending findings to each workbook.

    `expected_period` is (nam_hoc, ky_bao_cao) of the round being received, when known; `today` dates the
    school year running (default: the current date), the last one a file may report on. The reader's
    structural findings (missing sheets or columns, unreadable cells) are taken as given: the checks
    here skip what the reader could not read, so nothing is reported twice.
    """
    if not workbooks:
        return
    batch = _build_batch(workbooks)
    district_codes = sorted({d["ma_don_vi"] for d in province.districts})
    versions = template_versions()
    accepted = [versions.current, *(v for v in versions.accepted if v != versions.current)]
    parameters = {DISTRICT_CODES_PARAMETER: district_codes, VERSIONS_PARAMETER: accepted}
    # what a message may name of the province: a district of another province learns whose registry it is
    # not in, and which codes are (the suites serve every province: no example code written into them)
    province_fields = {"ten_tinh": str(province.meta.get("ten_tinh", "")),
                       "danh_sach_ma_don_vi": ", ".join(district_codes),
                       "danh_sach_phien_ban": " hoặc ".join(f"'{version}'" for version in accepted)}
    registry = _registry_frame(province)
    # the district a file's schools belong to, and the rows whose code is mistyped (their name is a school's
    # left out of the sheet): found first, so that no rule repeats them through a wrong district or code
    schools_of = _district_of_schools(batch, registry, set(district_codes))
    schools_batch = _as_district(batch, schools_of)
    mistyped = _mistyped_codes(schools_batch, registry, set(district_codes))
    new: list[tuple[int, Finding]] = []
    for name in SUITES:
        frame = _suite_frame(batch, load_suites()[name], mistyped)
        if frame is not None:
            new += _run_suite(name, frame, batch, parameters, province_fields)
    new += _period_findings(batch, expected_period)
    # the Sở's day, not the server's (a container runs on UTC: seven hours behind Vietnam)
    new += _school_year_range_findings(batch, today or dt.datetime.now(TZ).date())
    new += _district_mismatch_findings(batch, schools_of, province)
    new += _district_name_findings(batch, province, skip=set(schools_of))
    new += _school_findings(schools_batch, registry, set(district_codes), mistyped)
    new += _completeness_findings(schools_batch, registry, set(district_codes), mistyped)
    new += _evaluation_sheet_findings(batch)
    order = {name: i for i, name in enumerate(load_layout().sheets)}
    written = {(i, w): c for i, wb in enumerate(workbooks) for c, w in wb.sheet_names.items()}

    def sort_key(item: tuple[int, Finding]) -> tuple:
        i, f = item
        canonical = written.get((i, f.sheet), f.sheet)
        return (i, order.get(canonical, len(order)), f.row_number or 0, f.rule)

    for i, finding in sorted(new, key=sort_key):
        workbooks[i].findings.append(finding)


# ---------------------------------------------------------------------------------------------- suites


@cache
def load_suites() -> dict[str, dict]:
    """The suites as written in expectations/ (plain JSON, GX's own suite format)."""
    return {name: json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8")) for name in SUITES}


@cache
def _gx_runtime() -> tuple[Any, dict[str, Any]]:
    """The batch definition and the registered suites, built once per process (the GX import takes seconds)."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # some GX modules set their own logger to INFO at import time; quiet them after the import too
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("tonghop")
        .add_dataframe_asset("rows")
        .add_batch_definition_whole_dataframe("all_rows")
    )
    suites = {}
    for name, raw in load_suites().items():
        suite = gx.ExpectationSuite(**copy.deepcopy(raw))
        if len(suite.expectations) != len(raw["expectations"]):  # GX drops unknown types silently
            raise ValueError(f"expectations/{name}.json: an expectation type is unknown to Great Expectations")
        suites[name] = context.suites.add(suite)
    return batch_definition, suites


def _index_columns(meta: dict) -> list[str]:
    return [SUBMISSION, SHEET, ROW_NUMBER] if "row_sheets" in meta else [SUBMISSION, ROW_NUMBER]


def _run_suite(name: str, frame: pd.DataFrame, batch: _Batch, parameters: dict,
               province_fields: dict[str, str]) -> list[tuple[int, Finding]]:
    raw = load_suites()[name]
    index_columns = _index_columns(raw["meta"])
    batch_definition, suites = _gx_runtime()
    context_columns = [c for c in frame if c.startswith("_")]  # row conditions read them
    read = list(
        dict.fromkeys(index_columns + context_columns + suite_columns(raw) + list(raw["meta"].get("derived", {})))
    )
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame[read]}).validate(
        suites[name],
        expectation_parameters=parameters,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index_columns},
    )
    position: dict[tuple, int] | None = None
    findings = []
    for r in result.results:
        error = _raised_exception(r.exception_info)
        if error:
            raise RuntimeError(f"expectations/{name}.json, {r.expectation_config.type}: {error}")
        if r.success:
            continue
        failing = r.result.get("unexpected_index_list") or []
        if len(failing) != r.result.get("unexpected_count", len(failing)):
            raise RuntimeError(f"expectations/{name}.json, {r.expectation_config.type}: incomplete failure list")
        if position is None:
            keys = zip(*(frame[c].tolist() for c in index_columns), strict=True)
            position = {k: p for p, k in enumerate(keys)}
        config = r.expectation_config
        for item in failing:
            row = frame.iloc[position[tuple(item[c] for c in index_columns)]]
            findings.append(_suite_finding(raw, config.meta, config.kwargs, row, batch, province_fields))
    return findings


def _raised_exception(info: dict | None) -> str | None:
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info["raised_exception"] else None
    return next(
        (v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("raised_exception")),
        None,
    )


def _suite_finding(raw: dict, meta: dict, kwargs: dict, row: pd.Series, batch: _Batch,
                   province_fields: dict[str, str]) -> tuple[int, Finding]:
    i = int(row[SUBMISSION])
    wb = batch.workbooks[i]
    sheet = row[SHEET] if SHEET in row.index else raw["meta"]["sheet"]
    column = meta["column"]
    fields = {**province_fields, **{k: format_value(v) for k, v in row.items()}}
    if "column_list" in kwargs:
        fields["parts"] = _describe_sum(kwargs["column_list"], raw["meta"].get("derived", {}), row,
                                        wb.template_version)
    written = _written(wb, sheet)
    if sheet == HEADER_SHEET:
        row_number, label = wb.header_rows.get(column), None
    else:
        row_number = int(row[ROW_NUMBER])
        row_key = load_layout().sheets[sheet].row_key
        label = row_label(row_key, fields.get(row_key, ""))
    message = location(written, row_number, label) + render(meta["message"], _message_fields(fields, wb))
    finding = Finding(meta["severity"], meta["rule"], message, written, row_number, column, fields.get(column))
    return i, finding


def _describe_sum(columns: list[str], derived: dict[str, str], row: pd.Series, version: str | None) -> str:
    """'A' + 'B' = 1 + 2 = 3, over the columns of a sum rule that are not derived (the negated total)."""
    parts = [c for c in columns if c not in derived]
    labels = _labels(version)
    values = [row[c] for c in parts]
    return (
        " + ".join(f"'{labels.get(c, c)}'" for c in parts)
        + " = "
        + " + ".join(format_value(v) for v in values)
        + f" = {format_value(float(sum(values)))}"
    )


def _message_fields(fields: dict[str, str], wb: ParsedWorkbook) -> dict[str, Any]:
    sheets = {name: _written(wb, name) for name in load_layout().sheets}
    return {**fields, "L": _labels(wb.template_version), "S": sheets,
            "ma_don_vi": format_value(wb.header.get("ma_don_vi"))}


def _written(wb: ParsedWorkbook, sheet: str) -> str:
    """A sheet's name as the file writes it, else as the file's template version names it."""
    return wb.sheet_names.get(sheet) or layout_of(wb.template_version).written_name(sheet)


def _labels(version: str | None = None) -> dict[str, str]:
    """Vietnamese label of every template key as a file of this template version reads it (a column of another
    version by that version's label), also as <Sheet>__<key> (the joined columns' names)."""
    versions = template_versions()
    return _version_labels(versions, versions.current if version not in versions.accepted else version)


@cache
def _version_labels(versions: TemplateVersions, version: str) -> dict[str, str]:
    labels = {}
    for sheet in [*load_layout(version).sheets.values(), *combined_layout().sheets.values()]:
        for c in sheet.columns:
            labels.setdefault(c.key, c.label_vi)
            labels.setdefault(f"{sheet.name}{JOIN_SEPARATOR}{c.key}", c.label_vi)
    return labels


# ---------------------------------------------------------------------------------------------- frames


def _build_batch(workbooks: list[ParsedWorkbook]) -> _Batch:
    context = _context_frame(workbooks)
    layout = combined_layout()  # a night's files may be of several template versions
    sheets = {}
    for spec in layout.table_sheets:
        stacked = stack_tables(workbooks, spec.name)
        if stacked is not None:
            frame, owners = stacked
            frame[SUBMISSION] = owners
            _to_float(frame, [c.key for c in spec.columns if c.type in NUMERIC_TYPES])
            sheets[spec.name] = frame.merge(context, on=SUBMISSION, how="left")
    header_spec = layout.sheets[HEADER_SHEET]
    header = pd.DataFrame(
        [{k: wb.header.get(k) for k in header_spec.keys} for wb in workbooks], columns=header_spec.keys
    )
    _to_float(header, [c.key for c in header_spec.columns if c.type in NUMERIC_TYPES])
    header[SUBMISSION] = range(len(workbooks))
    header[ROW_NUMBER] = 0  # resolved per key from ParsedWorkbook.header_rows
    _forget_reported_cells(workbooks, sheets, header)
    return _Batch(workbooks, context, sheets, header.merge(context, on=SUBMISSION, how="left"))


def _forget_reported_cells(workbooks: list[ParsedWorkbook], sheets: dict[str, pd.DataFrame],
                           header: pd.DataFrame) -> None:
    """The cells of the reader's UNKNOWN_CELL_RULES findings, set to NaN in the frames the rules read."""
    for i, wb in enumerate(workbooks):
        reported = [f for f in wb.findings if f.rule in UNKNOWN_CELL_RULES and f.column_key]
        if not reported:
            continue
        canonical = {written: name for name, written in wb.sheet_names.items()}
        for f in reported:
            sheet = canonical.get(f.sheet, f.sheet)
            if sheet == HEADER_SHEET:
                if f.column_key in header:
                    header.loc[header[SUBMISSION] == i, f.column_key] = float("nan")
            elif (frame := sheets.get(sheet)) is not None and f.column_key in frame:
                cell = (frame[SUBMISSION] == i) & (frame[ROW_NUMBER] == f.row_number)
                frame.loc[cell, f.column_key] = float("nan")


def _context_frame(workbooks: list[ParsedWorkbook]) -> pd.DataFrame:
    rows = []
    for i, wb in enumerate(workbooks):
        nam_hoc = wb.header.get("nam_hoc")
        years = NAM_HOC.fullmatch(str(nam_hoc)) if nam_hoc is not None else None
        rows.append(
            {
                SUBMISSION: i,
                "_ma_don_vi": wb.header.get("ma_don_vi"),
                "_nam_hoc": nam_hoc,
                "_ky_bao_cao": wb.header.get("ky_bao_cao"),
                "_nam_dau": float(years[1]) if years else float("nan"),
                "_nam_cuoi": float(years[2]) if years else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def _to_float(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    for c in columns:
        if c in frame:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")


def _suite_frame(batch: _Batch, raw: dict, mistyped: Mistyped | None = None) -> pd.DataFrame | None:
    """The frame one suite validates, with its derived columns; None when no workbook has the sheet.
    Rows whose code is `mistyped` are not joined with other sheets: their code names another school."""
    meta = raw["meta"]
    if "row_sheets" in meta:
        frame = _cross_frame(batch, meta, mistyped or {})
    elif meta["sheet"] == HEADER_SHEET:
        frame = batch.header.copy()
    else:
        frame = batch.sheets.get(meta["sheet"])
        frame = None if frame is None else frame.copy()
    if frame is None:
        return None
    for column in suite_columns(raw):
        if column not in frame:
            frame[column] = float("nan")  # a column the reader reported missing: its rules are skipped
    for name, expression in meta.get("derived", {}).items():
        frame[name] = frame.eval(expression).astype("float64")
    return frame


def _cross_frame(batch: _Batch, meta: dict, mistyped: Mistyped) -> pd.DataFrame | None:
    on = meta["join_on"]
    pieces = []
    for sheet in meta["row_sheets"]:
        frame = _without_mistyped(batch.sheets.get(sheet), sheet, mistyped)
        if frame is None:
            continue
        frame = frame.assign(**{SHEET: sheet})
        for other, columns in meta["join"].items():
            names = {c: f"{other}{JOIN_SEPARATOR}{c}" for c in columns}
            source = _without_mistyped(batch.sheets.get(other), other, mistyped)
            if source is None:
                frame = frame.assign(**{n: float("nan") for n in names.values()})
                continue
            right = source.drop_duplicates(on)[on + [c for c in columns if c in source]].rename(columns=names)
            frame = frame.merge(right, on=on, how="left")
        pieces.append(frame)
    return pd.concat(pieces, ignore_index=True) if pieces else None


def _without_mistyped(frame: pd.DataFrame | None, sheet: str, mistyped: Mistyped) -> pd.DataFrame | None:
    rows = [(i, row) for (name, i, row) in mistyped if name == sheet]
    if frame is None or not rows:
        return frame
    keys = pd.MultiIndex.from_frame(frame[[SUBMISSION, ROW_NUMBER]])
    return frame[~keys.isin(rows)]


def suite_columns(raw: dict) -> list[str]:
    """Every frame column a suite reads (derived columns excluded), in order of appearance."""
    derived = raw["meta"].get("derived", {})
    names: list[str] = []
    for expectation in raw["expectations"]:
        kwargs = expectation["kwargs"]
        for key in ("column", "column_A", "column_B"):
            if key in kwargs:
                names.append(kwargs[key])
        names += kwargs.get("column_list", [])
    for expression in derived.values():
        names += _IDENTIFIER.findall(expression)
    return [n for n in dict.fromkeys(names) if n not in derived]


# ---------------------------------------------------------------------------------------------- registry rules


def _registry_frame(province: ProvinceConfig) -> pd.DataFrame:
    """The registry's rows. A school may have several, one per span of school years it spent in a district or
    under a name (a school moved to another district keeps its code: its old row closes the year its new
    row opens); each submission row is checked against the row of its own district and year."""
    columns = ["ma_truong", "ten_truong", "ma_don_vi", "mo_tu_nam_hoc", "dong_tu_nam_hoc"]
    registry = pd.DataFrame([{c: s.get(c) or "" for c in columns} for s in province.schools], columns=columns)
    return registry.astype("str").drop_duplicates(ignore_index=True)


def _registry_row_of_year(rows: pd.DataFrame) -> pd.DataFrame:
    """Submission rows merged with every registry row of their code (suffix `_dm`, `_position` numbering the
    submission rows), reduced to one registry row each: the one of the submitting district open in the
    row's school year, else one of that district, else one open that year, else the first."""
    if not rows["_position"].duplicated().any():
        return rows
    registry_side = rows[["mo_tu_nam_hoc_dm", "dong_tu_nam_hoc_dm"]].fillna("")
    registry_side.columns = ["mo_tu_nam_hoc", "dong_tu_nam_hoc"]
    is_open = rows["mo_tu_nam_hoc_dm"].notna() & _open_in(registry_side, rows["_nam_hoc"].astype("str"))
    same_district = rows["ma_don_vi_dm"] == rows["_ma_don_vi"]
    rank = 2 * ~same_district + ~is_open
    return (rows.assign(_rank=rank.astype(int)).sort_values(["_position", "_rank"], kind="stable")
            .drop_duplicates("_position").drop(columns="_rank").reset_index(drop=True))


def _open_in(registry: pd.DataFrame, nam_hoc: pd.Series) -> pd.Series:
    """Whether each registry row is open in the aligned school year (closed from dong_tu_nam_hoc on)."""
    closed = (registry["dong_tu_nam_hoc"] != "") & (registry["dong_tu_nam_hoc"] <= nam_hoc)
    return (registry["mo_tu_nam_hoc"] <= nam_hoc) & ~closed


def _rule_finding(
    rule_id: str,
    wb: ParsedWorkbook,
    sheet: str,
    row_number: int | None,
    column: str | None,
    value: Any,
    **fields: Any,
) -> Finding:
    rule = RULES[rule_id]
    written = _written(wb, sheet)
    shown = {k: format_value(v) for k, v in fields.items()}
    shown.setdefault("sheet", written)
    shown.update(value=format_value(value), nam_hoc=format_value(wb.header.get("nam_hoc")))
    label = None
    if sheet != HEADER_SHEET and row_number is not None and "ma_truong" in fields:
        label = row_label("ma_truong", shown["ma_truong"])
    labels = _labels(wb.template_version)
    fields_all = {**_message_fields(shown, wb), "L": {**labels, "column": labels.get(column, column)}}
    message = (location(written, row_number, label) if rule.located else "") + render(rule.message, fields_all)
    return Finding(rule.severity, rule.code, message, written, row_number, column, format_value(value) or None)


def _period_findings(batch: _Batch, expected: tuple[str, str] | None) -> list[tuple[int, Finding]]:
    if expected is None:
        return []
    findings = []
    for i, wb in enumerate(batch.workbooks):
        for column, want in zip(("nam_hoc", "ky_bao_cao"), expected, strict=True):
            value = wb.header.get(column)
            if value is not None and value != want:
                finding = _rule_finding(
                    "wrong_period.expected",
                    wb,
                    HEADER_SHEET,
                    wb.header_rows.get(column),
                    column,
                    value,
                    expected_nam_hoc=expected[0],
                    expected_ky_bao_cao=expected[1],
                )
                findings.append((i, finding))
    return findings


def _school_year_range_findings(batch: _Batch, today: dt.date) -> list[tuple[int, Finding]]:
    """A well-formed school year the pipeline cannot receive: one not begun yet, or one the warehouse does not
    hold (core.school_year, etl/registry.py); publishing such a period would fail the whole chunk's load."""
    first = FIRST_START_YEAR
    last = min(int(current_school_year(today)[:4]), LAST_START_YEAR)
    findings = []
    for row in batch.context.to_dict("records"):
        start, end = row["_nam_dau"], row["_nam_cuoi"]
        if pd.isna(start) or end != start + 1 or first <= start <= last:
            continue  # malformed years are thong_tin.json's to report
        i = int(row[SUBMISSION])
        wb = batch.workbooks[i]
        finding = _rule_finding(
            "wrong_period.out_of_range",
            wb,
            HEADER_SHEET,
            wb.header_rows.get("nam_hoc"),
            "nam_hoc",
            wb.header.get("nam_hoc"),
            first_nam_hoc=f"{first}-{first + 1}",
            current_nam_hoc=f"{last}-{last + 1}",
        )
        findings.append((i, finding))
    return findings


def _district_of_schools(batch: _Batch, registry: pd.DataFrame, district_codes: set[str]) -> dict[int, str]:
    """Submissions of a registered district none of whose school codes is that district's, all of them being
    one other district's: {submission: the district its schools belong to}. One school of a neighbour among
    the district's own is that row's problem (unknown_school); every school of a neighbour is the code's."""
    codes = []
    for spec in load_layout().school_sheets:
        frame = batch.sheets.get(spec.name)
        if frame is not None and "ma_truong" in frame:
            codes.append(frame.loc[frame["_ma_don_vi"].isin(district_codes) & frame["ma_truong"].notna(),
                                   [SUBMISSION, "_ma_don_vi", "ma_truong"]])
    if not codes:
        return {}
    written = pd.concat(codes).astype({"ma_truong": "str"}).drop_duplicates()
    known = written.merge(registry[["ma_truong", "ma_don_vi"]].drop_duplicates(), on="ma_truong")
    own = set(known.loc[known["ma_don_vi"] == known["_ma_don_vi"], SUBMISSION])
    others = known[~known[SUBMISSION].isin(own)].groupby(SUBMISSION)["ma_don_vi"].unique()
    return {int(i): str(districts[0]) for i, districts in others.items() if len(districts) == 1}


def _district_mismatch_findings(batch: _Batch, schools_of: dict[int, str],
                                province: ProvinceConfig) -> list[tuple[int, Finding]]:
    names = {d["ma_don_vi"]: d["ten_don_vi"] for d in province.districts}
    findings = []
    for i, district in schools_of.items():
        wb = batch.workbooks[i]
        codes = sorted({str(c) for spec in load_layout().school_sheets
                        if (frame := batch.sheets.get(spec.name)) is not None and "ma_truong" in frame
                        for c in frame.loc[frame[SUBMISSION] == i, "ma_truong"].dropna()})
        example = next((s for s in province.schools if s["ma_truong"] in codes and s["ma_don_vi"] == district), {})
        written_name = wb.header.get("ten_don_vi")
        finding = _rule_finding(
            "district_mismatch",
            wb,
            HEADER_SHEET,
            wb.header_rows.get("ma_don_vi"),
            "ma_don_vi",
            wb.header.get("ma_don_vi"),
            ten_danh_muc=names.get(str(wb.header.get("ma_don_vi")), ""),
            so_truong=len(codes),
            ma_truong=example.get("ma_truong", ""),
            ten_truong_danh_muc=example.get("ten_truong", ""),
            ma_don_vi_truong=district,
            ten_don_vi_truong=names.get(district, ""),
            ten_ghi=f", và '{_labels(wb.template_version)['ten_don_vi']}' ghi '{written_name}'" if written_name else "",
        )
        findings.append((i, finding))
    return findings


def _as_district(batch: _Batch, schools_of: dict[int, str]) -> _Batch:
    """The batch with each submission of `schools_of` taken as its schools' district (for the registry rules)."""
    if not schools_of:
        return batch
    district = pd.Series(schools_of, dtype="object")

    def moved(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        mapped = frame[SUBMISSION].map(district)
        frame["_ma_don_vi"] = mapped.where(mapped.notna(), frame["_ma_don_vi"])
        return frame

    return _Batch(batch.workbooks, moved(batch.context), {k: moved(v) for k, v in batch.sheets.items()},
                  batch.header)


def _district_name_findings(batch: _Batch, province: ProvinceConfig, *,
                            skip: set[int]) -> list[tuple[int, Finding]]:
    """A district name other than the registry's for the code; not for `skip` (district_mismatch says it)."""
    names = {d["ma_don_vi"]: d["ten_don_vi"] for d in province.districts}
    findings = []
    for i, wb in enumerate(batch.workbooks):
        if i in skip:
            continue
        code, written = wb.header.get("ma_don_vi"), wb.header.get("ten_don_vi")
        if code in names and written and _name_core(str(written)) != _name_core(names[code]):
            row = wb.header_rows.get("ten_don_vi")
            finding = _rule_finding(
                "name_mismatch.district",
                wb,
                HEADER_SHEET,
                row,
                "ten_don_vi",
                written,
                ten_danh_muc=names[code],
            )
            findings.append((i, finding))
    return findings


def _expected_schools(batch: _Batch, registry: pd.DataFrame, district_codes: set[str]) -> pd.DataFrame:
    """(submission, ma_truong, ten_truong) of every registry school open in the submission's school year."""
    context = batch.context
    valid = context["_ma_don_vi"].isin(district_codes) & context["_nam_hoc"].astype("str").str.fullmatch(
        NAM_HOC.pattern
    )
    expected = context[valid.fillna(False)].merge(registry, left_on="_ma_don_vi", right_on="ma_don_vi")
    expected = expected[_open_in(expected, expected["_nam_hoc"].astype("str"))]
    return expected.drop_duplicates([SUBMISSION, "ma_truong"])  # two rows of one school open in one year


def _mistyped_codes(batch: _Batch, registry: pd.DataFrame, district_codes: set[str]) -> Mistyped:
    """Rows whose school code is mistyped: the code is not that of the school the row names (no school's,
    another district's, a closed one's, or another school's of the district), and the name is, alone in its
    sheet, that of one registry school of the district left out of the sheet. Told as one finding (the code
    to write), where before the row's code was unknown (or the other school listed twice, its name not the
    row's) and the school the clerk sees in that row missing."""
    expected = _expected_schools(batch, registry, district_codes)
    if expected.empty:
        return {}
    expected = expected.assign(_name=expected["ten_truong"].astype("str").map(_name_core))
    names = registry.assign(_name=registry["ten_truong"].map(_name_core))[["ma_truong", "_name"]]
    mistyped: Mistyped = {}
    for spec in load_layout().school_sheets:
        frame = batch.sheets.get(spec.name)
        if frame is None or "ma_truong" not in frame or "ten_truong" not in frame:
            continue
        rows = frame.loc[frame["ma_truong"].notna() & frame["ten_truong"].notna(),
                         [SUBMISSION, ROW_NUMBER, "ma_truong", "ten_truong"]]
        rows = rows.assign(ma_truong=rows["ma_truong"].astype("str"),
                           _name=rows["ten_truong"].astype("str").map(_name_core))
        rows = rows[rows["_name"] != ""]
        # a suspect code: not one of the district's schools that year, or written on another row too
        codes = pd.MultiIndex.from_frame(rows[[SUBMISSION, "ma_truong"]])
        suspect = ~codes.isin(pd.MultiIndex.from_frame(expected[[SUBMISSION, "ma_truong"]])) | codes.duplicated(
            keep=False)
        rows = rows[suspect]
        # ... on a row that does not name the school of that code
        named_as_code = rows.merge(names, on="ma_truong", suffixes=("", "_dm"))
        named_as_code = named_as_code.loc[named_as_code["_name"] == named_as_code["_name_dm"], [SUBMISSION, ROW_NUMBER]]
        rows = rows[~pd.MultiIndex.from_frame(rows[[SUBMISSION, ROW_NUMBER]]).isin(
            pd.MultiIndex.from_frame(named_as_code))]
        if rows.empty:
            continue
        present = frame[[SUBMISSION, "ma_truong"]].dropna().astype({"ma_truong": "str"})
        left_out = expected.merge(present.drop_duplicates(), on=[SUBMISSION, "ma_truong"], how="left",
                                  indicator=True)
        left_out = left_out[left_out["_merge"] == "left_only"]
        # unique on both sides: one row of that name, one school left out of that name
        candidates = rows.merge(left_out[[SUBMISSION, "ma_truong", "ten_truong", "_name"]],
                                on=[SUBMISSION, "_name"], suffixes=("", "_dung"))
        all_named = frame[[SUBMISSION, "ten_truong"]].dropna()
        all_named = all_named.assign(_name=all_named["ten_truong"].astype("str").map(_name_core))
        named = all_named.groupby([SUBMISSION, "_name"]).size()
        school_named = expected.groupby([SUBMISSION, "_name"]).size()
        for r in candidates.to_dict("records"):
            key = (r[SUBMISSION], r["_name"])
            if named.get(key, 0) == 1 and school_named.get(key, 0) == 1:
                mistyped[(spec.name, int(r[SUBMISSION]), int(r[ROW_NUMBER]))] = (r["ma_truong_dung"],
                                                                                   r["ten_truong_dung"])
    return mistyped


def _school_findings(batch: _Batch, registry: pd.DataFrame, district_codes: set[str],
                     mistyped: Mistyped) -> list[tuple[int, Finding]]:
    """Registry membership, duplicated schools and school names, for every row of every per-school sheet;
    a `mistyped` row gets only the finding that its code is not its school's."""
    findings = []
    for spec in load_layout().school_sheets:
        frame = batch.sheets.get(spec.name)
        if frame is None or "ma_truong" not in frame:
            continue
        rows = frame[frame["_ma_don_vi"].isin(district_codes) & frame["ma_truong"].notna()]
        wrong = [(i, row) for (name, i, row) in mistyped if name == spec.name]
        if wrong:
            is_wrong = pd.MultiIndex.from_frame(rows[[SUBMISSION, ROW_NUMBER]]).isin(wrong)
            for r in rows[is_wrong].to_dict("records"):
                code, name = mistyped[(spec.name, int(r[SUBMISSION]), int(r[ROW_NUMBER]))]
                findings.append(_mistyped_finding(batch, spec.name, r, code, name))
            rows = rows[~is_wrong]
        rows = rows.assign(_position=range(len(rows)))
        rows = _registry_row_of_year(
            rows.merge(registry.add_suffix("_dm"), left_on="ma_truong", right_on="ma_truong_dm", how="left"))
        in_registry = rows["ma_don_vi_dm"].notna()
        other_district = in_registry & (rows["ma_don_vi_dm"] != rows["_ma_don_vi"])
        valid_year = rows["_nam_hoc"].astype("str").str.fullmatch(NAM_HOC.pattern).fillna(False)
        registry_side = rows[["mo_tu_nam_hoc_dm", "dong_tu_nam_hoc_dm"]].fillna("")
        registry_side.columns = ["mo_tu_nam_hoc", "dong_tu_nam_hoc"]
        not_open = in_registry & ~other_district & valid_year & ~_open_in(registry_side, rows["_nam_hoc"].astype("str"))
        opens_later = rows["mo_tu_nam_hoc_dm"].fillna("") > rows["_nam_hoc"].astype("str")
        checks = (
            ("unknown_school.not_in_registry", ~in_registry),
            ("unknown_school.other_district", other_district),
            ("unknown_school.not_open_yet", not_open & opens_later),
            ("unknown_school.not_open", not_open & ~opens_later),
        )
        for rule_id, mask in checks:
            for r in rows[mask].to_dict("records"):
                findings.append(_school_row_finding(rule_id, batch, spec.name, r, "ma_truong"))
        duplicated = rows.duplicated([SUBMISSION, "ma_truong"], keep="first")
        first_row = rows.groupby([SUBMISSION, "ma_truong"])[ROW_NUMBER].transform("min")
        for r, first in zip(rows[duplicated].to_dict("records"), first_row[duplicated], strict=True):
            findings.append(_school_row_finding("duplicate_school", batch, spec.name, r, "ma_truong", first_row=first))
        if "ten_truong" in rows:
            same = (
                in_registry
                & ~other_district
                & ~not_open
                & rows["ten_truong"].notna()
                & (rows["ten_truong"].astype("str") != "")
            )
            written = rows["ten_truong"].astype("str")
            candidates = rows[same & (written != rows["ten_truong_dm"])]  # most names are copied from the registry
            differs = candidates["ten_truong"].astype("str").map(_name_core) != candidates["ten_truong_dm"].map(
                _name_core
            )
            for r in candidates[differs].to_dict("records"):
                findings.append(_school_row_finding("name_mismatch.school", batch, spec.name, r, "ten_truong"))
    return findings


def _mistyped_finding(batch: _Batch, sheet: str, r: dict, code: str, name: str) -> tuple[int, Finding]:
    i = int(r[SUBMISSION])
    finding = _rule_finding("unknown_school.mistyped", batch.workbooks[i], sheet, int(r[ROW_NUMBER]), "ma_truong",
                            r["ma_truong"], ma_truong=r["ma_truong"], ten_truong=r["ten_truong"],
                            ma_truong_dung=code, ten_truong_danh_muc=name)
    return i, finding


def _school_row_finding(
    rule_id: str, batch: _Batch, sheet: str, r: dict, column: str, **extra: Any
) -> tuple[int, Finding]:
    i = int(r[SUBMISSION])
    opened, closed = r["mo_tu_nam_hoc_dm"], r["dong_tu_nam_hoc_dm"]
    hoat_dong = f"mở từ năm học {opened}" if isinstance(opened, str) else ""
    if isinstance(closed, str) and closed:
        hoat_dong += f", đóng hoặc sáp nhập từ năm học {closed}"
    finding = _rule_finding(
        rule_id,
        batch.workbooks[i],
        sheet,
        int(r[ROW_NUMBER]),
        column,
        r[column],
        ma_truong=r["ma_truong"],
        ten_truong_danh_muc=r["ten_truong_dm"],
        ma_don_vi_danh_muc=r["ma_don_vi_dm"],
        ten_danh_muc=r["ten_truong_dm"],
        hoat_dong=hoat_dong,
        **extra,
    )
    return i, finding


def _completeness_findings(
    batch: _Batch, registry: pd.DataFrame, district_codes: set[str], mistyped: Mistyped
) -> list[tuple[int, Finding]]:
    """Registry schools open in the submission's school year without a row (closed or merged ones are not
    expected); a school whose row has a `mistyped` code is there, and that row's finding says so."""
    expected = _expected_schools(batch, registry, district_codes)
    written_for = {(sheet, i, code) for (sheet, i, _), (code, _) in mistyped.items()}
    findings = []
    for sheet in COMPLETE_SHEETS + PARTIAL_SHEETS:
        # absent sheet: missing_sheet; a sheet without its code column: missing_column. Either is reported
        # already, and its schools may well be there: telling each of them missing would mislead the clerk.
        has_codes = [i for i, wb in enumerate(batch.workbooks) if _has_column(wb, sheet, "ma_truong")]
        frame = batch.sheets.get(sheet)
        present = (
            frame[[SUBMISSION, "ma_truong"]]
            if frame is not None and "ma_truong" in frame
            else pd.DataFrame(columns=[SUBMISSION, "ma_truong"])
        )
        if sheet in PARTIAL_SHEETS:  # only where the sheet lists some schools (it may be empty in HKI)
            has_codes = [i for i in has_codes if i in set(present[SUBMISSION].dropna().astype(int))]
        wanted = expected[expected[SUBMISSION].isin(has_codes)]
        joined = wanted.merge(present.drop_duplicates(), on=[SUBMISSION, "ma_truong"], how="left", indicator=True)
        rule_id = "missing_school" if sheet in COMPLETE_SHEETS else "missing_school.partial_sheet"
        for r in joined[joined["_merge"] == "left_only"].to_dict("records"):
            i = int(r[SUBMISSION])
            if (sheet, i, r["ma_truong"]) in written_for:
                continue
            finding = _rule_finding(
                rule_id,
                batch.workbooks[i],
                sheet,
                None,
                "ma_truong",
                r["ma_truong"],
                ma_truong=r["ma_truong"],
                ten_truong_danh_muc=r["ten_truong"],
            )
            findings.append((i, finding))
    return findings


def _has_column(wb: ParsedWorkbook, sheet: str, key: str) -> bool:
    """Whether the workbook's table of a sheet has a column (without building a frame from a stacked view)."""
    if sheet not in wb.tables:
        return False
    view = wb.tables.view(sheet)
    return key in (view.columns if view is not None else wb.tables[sheet].columns)


def _evaluation_sheet_findings(batch: _Batch) -> list[tuple[int, Finding]]:
    findings = []
    for i, wb in enumerate(batch.workbooks):
        if wb.header.get("ky_bao_cao") != "CN":
            continue
        rows = wb.tables.rows(EVALUATION_SHEET)
        if rows is None:
            names = {EVALUATION_SHEET, _written(wb, EVALUATION_SHEET)}
            reported = any(
                f.rule == "missing_sheet" and (f.sheet in names or any(n in f.message for n in names))
                for f in wb.findings
            )
            if not reported:
                findings.append(
                    (i, _rule_finding("missing_sheet.danh_gia_chuan", wb, EVALUATION_SHEET, None, None, None))
                )
        elif rows == 0:
            findings.append((i, _rule_finding("missing_sheet.empty", wb, EVALUATION_SHEET, None, None, None)))
    return findings


@lru_cache(maxsize=65536)
def _name_core(name: str) -> str:
    """A name without case, diacritics, punctuation and generic words: 'Trường MN Tô Hiệu' -> 'to hieu'."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFC", name).casefold().replace("đ", "d"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(_GENERIC_NAME_WORDS.sub(" ", text).split())


# ---------------------------------------------------------------------------------------------- rules document


def rules_table() -> list[dict[str, str]]:
    """Every rule: from the suites (expectations/*.json), the pandas rules, then the reader's codes."""
    layout = load_layout()
    labels = _labels()
    sheets = {name: name for name in layout.sheets}
    table = []
    for name, raw in load_suites().items():
        meta = raw["meta"]
        for expectation in raw["expectations"]:
            m = expectation["meta"]
            sheet = meta.get("sheet") or next(s for s in meta["row_sheets"] if m["column"] in layout.sheets[s].keys)
            table.append(
                {
                    "rule": m["rule"],
                    "severity": m["severity"],
                    "sheet": sheet,
                    "columns": ", ".join(_expectation_columns(expectation, meta.get("derived", {}), m["column"])),
                    "message": render_for_docs(m["message"], labels, sheets),
                    "why": m["why"],
                    "source": f"expectations/{name}.json ({expectation['type']})",
                }
            )
    for rule in RULES.values():
        table.append(
            {
                "rule": rule.code,
                "severity": rule.severity,
                "sheet": rule.sheet or "",
                "columns": ", ".join(rule.columns),
                "message": render_for_docs(rule.message, {**labels, "column": "{cột}"}, sheets),
                "why": rule.why,
                "source": rule.source,
            }
        )
    for code, what in READER_RULES.items():
        table.append(
            {
                "rule": code,
                "severity": "",
                "sheet": "",
                "columns": "",
                "message": "",
                "why": what,
                "source": "etl/read.py",
            }
        )
    for code, what in INGEST_RULES.items():
        table.append({"rule": code, "severity": "warning", "sheet": "", "columns": "", "message": "", "why": what,
                      "source": "etl/ingest.py"})
    return table


def _expectation_columns(expectation: dict, derived: dict[str, str], first: str) -> list[str]:
    kwargs = expectation["kwargs"]
    names = [first] + [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    names += kwargs.get("column_list", [])
    expanded: list[str] = []
    for n in names:
        expanded += _IDENTIFIER.findall(derived[n]) if n in derived else [n]
    shown = [n.replace(JOIN_SEPARATOR, ".") for n in expanded if not n.startswith("_")]
    return list(dict.fromkeys(shown))


def render_rules_doc() -> str:
    """docs/rules.md as text (generated: edit the suites or etl/messages.py, then `write_rules_doc()`)."""
    lines = [
        "# Data-quality rules",
        "",
        "Generated by `etl.validate.write_rules_doc()` from `expectations/*.json` and `etl/messages.py`;",
        "do not edit by hand (a test fails when this file is stale).",
        "",
        "Every finding becomes one row of `dq.issue`. Severity `error` rejects the submission, `warning`",
        "accepts it and tells the district and the Sở, `info` is recorded only. Each message starts with",
        "where the problem is (`Biểu '<sheet as written>', dòng <Excel row> (mã trường ...)`); in the",
        "templates below `{name}` is a value of the row, `{parts}` the parts of a sum with their values.",
        "",
        "Column names in `cross_sheet.json`: the rows of DoiNgu, DanhGiaChuan and BoiDuong are joined on",
        "(`_submission`, `ma_truong`) with columns of other sheets named `<Sheet>__<key>` (shown here as",
        "`<Sheet>.<key>`). Every suite frame also carries `_ma_don_vi`, `_nam_hoc`, `_ky_bao_cao`, `_nam_dau`",
        "and `_nam_cuoi` (the two years of `nam_hoc`).",
        "",
    ]
    sections = (
        ("Great Expectations suites", lambda r: r["source"].startswith("expectations/")),
        (
            "Rules checked in pandas (registry, completeness, names, period; cross-file plausibility)",
            lambda r: r["source"] in ("etl/validate.py", "etl/plausibility.py"),
        ),
        ("Reported by the reader", lambda r: r["source"] == "etl/read.py"),
        ("Reported on receipt", lambda r: r["source"] == "etl/ingest.py"),
    )
    rows = rules_table()
    for title, keep in sections:
        lines += [
            f"## {title}",
            "",
            "| rule | severity | sheet | columns | message (vi) | why | source |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in filter(keep, rows):
            cells = (r["rule"], r["severity"], r["sheet"], r["columns"], r["message"], r["why"], r["source"])
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write_rules_doc(path: Path | str = RULES_DOC) -> Path:
    """Write docs/rules.md from the suites and the rule definitions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_rules_doc(), encoding="utf-8")
    return path
