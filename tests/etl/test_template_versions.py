"""A new template version is data (etl/layouts/, docs/template-versions.md): a DA33-MN-v2 written in a temporary
folder, as the Sở would write it next year (a sheet renamed with the old name as an alias, a label renamed with
the old one as an alias, a new optional count column, a column moved), read, validated, loaded and rolled up
in the same night as DA33-MN-v1 files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
import yaml

from etl import layout as layout_module
from etl.annotate import Place, annotate
from etl.generate import generate_district_workbook
from etl.ingest import ingest_files
from etl.layout import LAYOUT_DIR, combined_layout, load_layout, template_versions
from etl.read import read_workbooks
from etl.rollup import rebuild_marts
from etl.template import write_blank_template

V1, V2 = "DA33-MN-v1", "DA33-MN-v2"
NEW_LABEL = "Số giáo viên hiện có"  # v2's label of gv_tong; v1's 'Tổng số giáo viên' stays as its alias


def write_v2(folder: Path, *, accepted: tuple[str, ...] = (V1, V2), current: str = V1) -> Path:
    """A layout folder holding v1 as shipped and a v2 made of data only."""
    for path in LAYOUT_DIR.iterdir():
        shutil.copy(path, folder / path.name)
    shutil.copy(LAYOUT_DIR / f"{V1}.instructions.txt", folder / f"{V2}.instructions.txt")
    spec = yaml.safe_load((LAYOUT_DIR / f"{V1}.yaml").read_text(encoding="utf-8"))
    spec["template_version"], spec["columns_file"] = V2, f"{V2}.columns.csv"
    spec["sheets"]["DoiNgu"].update(written_as="DoiNguCBGV", aliases=["DoiNgu"])
    (folder / f"{V2}.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with open(LAYOUT_DIR / f"{V1}.columns.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    out = []
    for row in rows:
        if (row["sheet"], row["key"]) == ("DoiNgu", "gv_tong"):
            row = {**row, "label_vi": NEW_LABEL, "aliases": "Tổng số giáo viên"}
        if (row["sheet"], row["key"]) == ("TruongLop", "dat_chuan_qg"):
            moved = row  # after tre_5_tuoi, the sheet's last column
            continue
        out.append(row)
        if (row["sheet"], row["key"]) == ("TruongLop", "tre_5_tuoi"):
            out.append(moved)
        if (row["sheet"], row["key"]) == ("DoiNgu", "gv_bien_che"):
            out.append({"sheet": "DoiNgu", "key": "gv_nu", "label_vi": "Trong đó: GV nữ", "type": "int",
                        "column_required": "no", "aliases": "GV nữ"})
    with open(folder / f"{V2}.columns.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(out)
    (folder / "versions.yaml").write_text(yaml.safe_dump({"current": current, "accepted": list(accepted)}),
                                          encoding="utf-8")
    return folder


@pytest.fixture
def v2_folder(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "layouts"
    folder.mkdir()
    write_v2(folder)
    monkeypatch.setenv(layout_module.LAYOUT_DIR_ENV, str(folder))
    return folder


def fill_gv_nu(path: Path) -> dict[str, int]:
    """gv_nu in a v2 workbook's DoiNguCBGV sheet (the generator leaves a column it does not model empty): each
    school's female teachers, two fewer than its teachers (at least 0); returns them by school code."""
    wb = openpyxl.load_workbook(path)
    ws = wb["DoiNguCBGV"]
    keys = {cell.value: cell.column for cell in ws[3]}
    women = {}
    for row in range(4, ws.max_row + 1):
        code = ws.cell(row, keys["ma_truong"]).value
        if code:
            women[code] = max(0, int(ws.cell(row, keys["gv_tong"]).value) - 2)
            ws.cell(row, keys["gv_nu"]).value = women[code]
    wb.save(path)
    return women


def test_the_template_writer_writes_a_version_from_its_data(v2_folder, tmp_path):
    province_path = write_blank_template(_province(), "118", tmp_path / "v2.xlsx", nam_hoc="2019-2020",
                                         template_version=V2)
    wb = openpyxl.load_workbook(province_path)
    assert wb.sheetnames[1:] == ["ThongTin", "TruongLop", "DoiNguCBGV", "DanhGiaChuan", "BoiDuong", "LopBoiDuong"]
    info = {row[0]: row[1] for row in wb["ThongTin"].iter_rows(values_only=True)}
    assert info["Phiên bản biểu mẫu"] == V2
    labels = [cell.value for cell in wb["DoiNguCBGV"][2]]
    assert labels[labels.index(NEW_LABEL) + 2] == "Trong đó: GV nữ"  # after gv_bien_che
    assert [cell.value for cell in wb["TruongLop"][3]][-1] == "dat_chuan_qg"  # moved last
    assert wb["DoiNguCBGV"]["A1"].value.startswith("ĐỘI NGŨ CÁN BỘ QUẢN LÝ")
    # the current version is still v1: the default template is unchanged
    default = openpyxl.load_workbook(write_blank_template(_province(), "118", tmp_path / "v1.xlsx",
                                                          nam_hoc="2019-2020"))
    assert "DoiNgu" in default.sheetnames
    assert {row[0]: row[1] for row in default["ThongTin"].iter_rows(values_only=True)}["Phiên bản biểu mẫu"] == V1


def test_v1_and_v2_files_read_together_each_by_its_own_layout(v2_folder, tmp_path):
    province = _province()
    old = generate_district_workbook(province, "118", "2019-2020", "CN", tmp_path / "118.xlsx", seed=1)
    new = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "127.xlsx", seed=1,
                                     template_version=V2)
    women = fill_gv_nu(new)
    one, two = read_workbooks([old, new])
    assert [f for f in one.findings + two.findings if f.severity != "info"] == []
    assert (one.template_version, two.template_version) == (V1, V2)
    assert two.sheet_names["DoiNgu"] == "DoiNguCBGV"
    assert dict(zip(two.tables["DoiNgu"]["ma_truong"], two.tables["DoiNgu"]["gv_nu"], strict=True)) == women
    assert "gv_nu" not in one.tables["DoiNgu"] or one.tables["DoiNgu"]["gv_nu"].isna().all()
    # the renamed label and the moved column are read as v1 reads its own
    alone = read_workbooks([new])[0]
    for sheet in ("TruongLop", "DoiNgu"):
        assert one.tables[sheet].columns.difference(two.tables[sheet].columns).tolist() == []
        assert alone.tables[sheet].equals(two.tables[sheet])


def test_a_v1_file_is_still_read_when_v2_is_current(tmp_path, monkeypatch):
    folder = tmp_path / "layouts"
    folder.mkdir()
    monkeypatch.setenv(layout_module.LAYOUT_DIR_ENV, str(write_v2(folder, current=V2)))
    old = generate_district_workbook(_province(), "118", "2019-2020", "CN", tmp_path / "118.xlsx", seed=1,
                                     template_version=V1)
    wb, = read_workbooks([old])
    assert wb.template_version == V1 and [f for f in wb.findings if f.severity != "info"] == []
    assert wb.sheet_names["DoiNgu"] == "DoiNgu"


def test_findings_in_a_v2_file_are_marked_in_its_own_cells(v2_folder, tmp_path):
    new = generate_district_workbook(_province(), "127", "2019-2020", "CN", tmp_path / "127.xlsx", seed=1,
                                     template_version=V2)
    wb = openpyxl.load_workbook(new)
    ws = wb["DoiNguCBGV"]
    ws.delete_rows(3)  # a clerk's copy without the key row: columns are found by their labels only
    labels = [cell.value for cell in ws[2]]
    women, total = labels.index("Trong đó: GV nữ") + 1, labels.index(NEW_LABEL) + 1
    ws.cell(3, women).value = "năm"
    ws.cell(4, total).value = "mười"
    wb.save(new)
    found = [f for f in read_workbooks([new])[0].findings if f.severity == "error"]
    assert sorted((f.rule, f.sheet, f.row_number, f.column_key) for f in found) == [
        ("not_a_number", "DoiNguCBGV", 3, "gv_nu"), ("not_a_number", "DoiNguCBGV", 4, "gv_tong")]
    copy = annotate(new, [vars(f) for f in found], tmp_path / "out.xlsx")
    letter = openpyxl.utils.get_column_letter
    assert sorted(copy.places, key=lambda place: place.cell[-1]) == [
        Place("DoiNguCBGV", f"{letter(women)}3", "Trong đó: GV nữ"),
        Place("DoiNguCBGV", f"{letter(total)}4", NEW_LABEL)]


def test_a_version_no_longer_accepted_is_rejected_naming_the_accepted_ones(tmp_path, monkeypatch, engine, settings):
    folder = tmp_path / "layouts"
    folder.mkdir()
    monkeypatch.setenv(layout_module.LAYOUT_DIR_ENV, str(write_v2(folder, accepted=(V2,), current=V2)))
    old = generate_district_workbook(_province(), "118", "2019-2020", "CN", tmp_path / "118.xlsx", seed=1,
                                     template_version=V2)
    _set_version(old, V1)
    with engine.begin() as c:
        c.execute(sa.text("alter table staging.doi_ngu add column gv_nu integer"))
    verdict, = ingest_files(engine, settings, [old])
    with engine.connect() as c:
        issues = c.execute(sa.text("select rule, sheet, column_key, value, message from dq.issue "
                                   "where submission_id = :s and severity = 'error'"),
                           {"s": verdict.submission_id}).all()
    assert verdict.status == "rejected"
    assert [(r, s, k, v) for r, s, k, v, _ in issues] == [("wrong_template_version", "ThongTin", "phien_ban", V1)]
    assert f"chỉ nhận biểu mẫu '{V2}':" in issues[0].message


def test_a_night_of_v1_and_v2_files_is_loaded_and_rolled_up(v2_folder, tmp_path, engine, settings):
    # the migration a new warehouse column needs (docs/template-versions.md): staging keeps what v2 files send
    with engine.begin() as c:
        c.execute(sa.text("alter table staging.doi_ngu add column gv_nu integer"))
    province = settings.province_config()
    old = generate_district_workbook(province, "118", "2019-2020", "CN", tmp_path / "118.xlsx", seed=1)
    new = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "127.xlsx", seed=1,
                                     template_version=V2)
    women = fill_gv_nu(new)
    expected = {code: _sum_of(path, sheet, "gv_tong") for code, path, sheet in
                (("118", old, "DoiNgu"), ("127", new, "DoiNguCBGV"))}
    verdicts = ingest_files(engine, settings, [old, new])
    assert [(v.status, v.n_errors, v.n_warnings) for v in verdicts] == [("accepted", 0, 0)] * 2
    rebuild_marts(engine)
    with engine.connect() as c:
        versions = dict(c.execute(sa.text("select ma_don_vi, template_version from dq.submission")).all())
        staged = dict(c.execute(sa.text(
            "select d.ma_truong, d.gv_nu from staging.doi_ngu d join dq.submission s using (submission_id) "
            "where s.ma_don_vi = '127'")).all())
        old_staged = c.execute(sa.text(
            "select count(*), count(d.gv_nu) from staging.doi_ngu d join dq.submission s using (submission_id) "
            "where s.ma_don_vi = '118'")).one()
        sums = dict(c.execute(sa.text("select ma_don_vi, gv_tong from mart.district_sums "
                                      "where nam_hoc = '2019-2020' and ky_bao_cao = 'CN'")).all())
    assert versions == {"118": V1, "127": V2}
    assert staged == women
    assert old_staged[0] > 0 and old_staged[1] == 0  # v1 rows: no such column, NULL
    assert sums == expected


def test_a_new_column_without_its_migration_stops_the_run_before_any_file_is_recorded(v2_folder, tmp_path,
                                                                                      engine, settings):
    new = generate_district_workbook(settings.province_config(), "127", "2019-2020", "CN", tmp_path / "127.xlsx",
                                     seed=1, template_version=V2)
    with pytest.raises(ValueError, match=r"Kho dữ liệu chưa có cột cho staging\.doi_ngu\.gv_nu của biểu mẫu"):
        ingest_files(engine, settings, [new])
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from dq.submission")).scalar() == 0
    assert new.exists()


def test_layouts_of_versions_that_disagree_on_a_column_type_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "layouts"
    folder.mkdir()
    write_v2(folder)
    columns = folder / f"{V2}.columns.csv"
    text = columns.read_text(encoding="utf-8")
    columns.write_text(text.replace("DoiNgu,cbql_tong,Tổng số CBQL,int", "DoiNgu,cbql_tong,Tổng số CBQL,decimal"),
                       encoding="utf-8")
    monkeypatch.setenv(layout_module.LAYOUT_DIR_ENV, str(folder))
    with pytest.raises(ValueError, match=r"cột DoiNgu\.cbql_tong: kiểu decimal \(DA33-MN-v2\) và int"):
        template_versions()


def test_the_combined_layout_adds_a_new_version_s_columns_after_the_current_ones(v2_folder):
    doi_ngu = combined_layout().sheets["DoiNgu"]
    assert doi_ngu.keys == [*load_layout(V1).sheets["DoiNgu"].keys, "gv_nu"]
    assert doi_ngu.column("gv_tong").label_vi == "Tổng số giáo viên"  # the current version's


def _province():
    from etl.config import Settings

    return Settings.from_env().province_config()


def _sum_of(path: Path, sheet: str, key: str) -> int:
    ws = openpyxl.load_workbook(path)[sheet]
    column = next(cell.column for cell in ws[3] if cell.value == key)
    return sum(int(ws.cell(r, column).value) for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value)


def _set_version(path: Path, version: str) -> None:
    wb = openpyxl.load_workbook(path)
    for row in wb["ThongTin"].iter_rows():
        if row[0].value == "Phiên bản biểu mẫu":
            row[1].value = version
    wb.save(path)
