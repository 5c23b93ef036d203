"""Another province, end to end: a Sở that is not Sơn La sets TONGHOP_PROVINCE and brings its own registry
(etl/config.py, etl/config_check.py, etl/registry.py). Đắk Lắk ships its targets (Buôn Ma Thuột, district
643, has its own plan); the registry below is what its staff would add: real district codes and names
(with the apostrophes of Ea H'leo, Cư M'gar, M'Đrắk), schools coded 66 + district + sequence."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from etl import registry
from etl.config import ProvinceConfig, ProvinceConfigError, Settings
from etl.demo import run_demo
from etl.generate import generate_province
from etl.ingest import ingest_files
from etl.report import write_annual_report
from etl.rollup import rebuild_marts
from tests.conftest import ROOT, SAMPLES

DISTRICTS = [
    ("643", "Phòng GD&ĐT thành phố Buôn Ma Thuột", "pgd-bmt@example.org"),
    ("645", "Phòng GD&ĐT huyện Ea H'leo", "pgd-eahleo@example.org"),
    ("648", "Phòng GD&ĐT huyện Cư M'gar", "pgd-cumgar@example.org"),
    ("652", "Phòng GD&ĐT huyện M'Đrắk", "pgd-mdrak@example.org"),
]
SCHOOL_NAMES = ["Hoa Sen", "Họa Mi", "Sơn Ca", "Vành Khuyên", "Ea Tu"]
SCHOOLS_HEADER = "ma_truong,ten_truong,ma_don_vi,loai_hinh,mo_tu_nam_hoc,dong_tu_nam_hoc"


def dak_lak_config(config_dir: Path, *, schools: list[str] | None = None, districts: str | None = None) -> Path:
    """A config folder holding Đắk Lắk as shipped (province.yaml, targets.csv) with a registry added; the
    registry's CSV lines may be given to probe what the staff write wrong."""
    folder = config_dir / "provinces" / "dak-lak"
    shutil.copytree(ROOT / "config" / "provinces" / "dak-lak", folder)
    if districts is None:
        districts = "ma_don_vi,ten_don_vi,email\n" + "".join(f'{c},"{n}",{e}\n' for c, n, e in DISTRICTS)
    (folder / "districts.csv").write_text(districts, encoding="utf-8")
    if schools is None:
        schools = [f"66{code}{i:03d},Trường Mầm non {SCHOOL_NAMES[i - 1]},{code},cong_lap,2010-2011,"
                   for code, _, _ in DISTRICTS for i in range(1, 4)]
    (folder / "schools.csv").write_text("\n".join([SCHOOLS_HEADER, *schools]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def dak_lak(make_settings, tmp_path) -> Settings:
    dak_lak_config(tmp_path / "config")
    return dataclasses.replace(make_settings("dak-lak"), config_dir=tmp_path / "config")


def problems(folder: Path) -> str:
    with pytest.raises(ProvinceConfigError) as raised:
        ProvinceConfig(folder).check()
    return str(raised.value)


def test_a_missing_province_names_the_ones_configured(tmp_path):
    settings = Settings(home=tmp_path, province="dak-lac", warehouse_url=None, config_dir=ROOT / "config")
    with pytest.raises(ProvinceConfigError) as raised:
        settings.province_config()
    message = str(raised.value)
    assert "không có cấu hình tỉnh 'dak-lac'" in message
    assert "bac-kan, dak-lak, lai-chau, son-la" in message


def test_the_shipped_configurations_pass_their_check():
    for folder in sorted((ROOT / "config" / "provinces").iterdir()):
        ProvinceConfig(folder).check()


def test_a_malformed_province_yaml_is_a_clear_error(tmp_path):
    folder = dak_lak_config(tmp_path)
    text = (folder / "province.yaml").read_text(encoding="utf-8")
    (folder / "province.yaml").write_text(text.replace('ma_tinh: "66"', "ma_tinh: 06")
                                          .replace("CN: {month: 6, day: 15}", "CN: {month: 6, day: 31}"),
                                          encoding="utf-8")
    message = problems(folder)
    assert "province.yaml: ma_tinh = 6 phải là mã tỉnh 2 chữ số đặt trong dấu nháy" in message
    assert "deadlines.CN" in message
    (folder / "province.yaml").write_text("slug: dak-lak\nten_tinh: [Đắk Lắk\n", encoding="utf-8")
    assert "province.yaml không đọc được" in problems(folder)


def test_a_registry_missing_a_column_names_it(tmp_path):
    folder = dak_lak_config(tmp_path)
    (folder / "schools.csv").write_text("ma_truong,ten_truong,ma_don_vi,mo_tu_nam_hoc,dong_tu_nam_hoc\n"
                                        "66643001,Trường Mầm non Hoa Sen,643,2010-2011,\n", encoding="utf-8")
    assert "schools.csv: thiếu cột loai_hinh" in problems(folder)


def test_a_school_code_written_twice_is_refused_with_both_lines(tmp_path):
    """Loaded, the last line won in core.school while the district files were checked against the first."""
    folder = dak_lak_config(tmp_path, schools=[
        "66643001,Trường Mầm non Hoa Sen,643,cong_lap,2010-2011,",
        "66643002,Trường Mầm non Họa Mi,643,cong_lap,2010-2011,",
        "66643001,Trường Mầm non Sơn Ca,645,cong_lap,2010-2011,",
    ])
    assert ("schools.csv, dòng 4, cột ma_truong: mã trường '66643001' trùng với dòng 2" in problems(folder))


def test_a_school_moved_to_another_district_is_listed_again_for_its_new_years(tmp_path):
    """The old row closes the year the new one opens: one row per school year, so accepted; overlapping
    years are not."""
    moved = dak_lak_config(tmp_path / "moved", schools=[
        "66643001,Trường Mầm non Hoa Sen,643,cong_lap,2010-2011,2020-2021",
        "66643001,Trường Mầm non Hoa Sen,645,cong_lap,2020-2021,",
    ])
    ProvinceConfig(moved).check()  # raises on any problem
    overlapping = dak_lak_config(tmp_path / "overlapping", schools=[
        "66643001,Trường Mầm non Hoa Sen,643,cong_lap,2010-2011,2021-2022",
        "66643001,Trường Mầm non Hoa Sen,645,cong_lap,2020-2021,",
    ])
    assert "schools.csv, dòng 3, cột ma_truong: mã trường '66643001' trùng với dòng 2" in problems(overlapping)


def test_registry_rows_as_a_spreadsheet_writes_them_wrong(tmp_path):
    folder = dak_lak_config(tmp_path, schools=[
        "6643001,Trường Mầm non Hoa Sen,643,cong_lap,2010-2011,",     # a digit lost
        "14118001,Trường Mầm non Họa Mi,643,cong_lap,2010-2011,",    # Sơn La's code
        "66699001,Trường Mầm non Sơn Ca,699,Công lập,2010-2011,",    # unknown district, type in words
    ], districts="ma_don_vi,ten_don_vi,email\n643,Phòng GD&ĐT thành phố Buôn Ma Thuột,a@example.org\n"
                 "45,Phòng GD&ĐT huyện Ea H'leo,b@example.org\n")
    message = problems(folder)
    assert "districts.csv, dòng 3, cột ma_don_vi: '45' phải là mã 3 chữ số" in message
    assert "schools.csv, dòng 2, cột ma_truong: '6643001' phải là mã trường 8 chữ số" in message
    assert "schools.csv, dòng 3, cột ma_truong: '14118001' không bắt đầu bằng mã tỉnh 66" in message
    assert "schools.csv, dòng 4, cột ma_don_vi: '699' của trường '66699001' không có trong districts.csv" in message
    assert "schools.csv, dòng 4, cột loai_hinh: 'Công lập' phải là một trong cong_lap, tu_thuc, dan_lap" in message


def test_a_registry_saved_as_excel_csv_utf8_is_read(tmp_path):
    """Excel's "CSV UTF-8" starts the file with a byte-order mark, which made the first column unknown."""
    folder = dak_lak_config(tmp_path)
    text = (folder / "schools.csv").read_text(encoding="utf-8")
    (folder / "schools.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    province = ProvinceConfig(folder)
    province.check()
    assert province.schools[0]["ma_truong"] == "66643001"
    # "CSV (Comma delimited)" writes the system code page
    (folder / "districts.csv").write_bytes("ma_don_vi,ten_don_vi,email\n643,Phòng Buôn,x\n".encode("cp1252"))
    assert "districts.csv không phải văn bản UTF-8" in problems(folder)


def test_a_district_target_of_a_district_not_in_the_registry_is_refused(tmp_path):
    folder = dak_lak_config(tmp_path)
    with open(folder / "targets.csv", "a", encoding="utf-8") as f:
        f.write("district,634,gv_cd_tro_len,100,2024-2025,2020-2021,2021-2025,000\n")
    assert "targets.csv, dòng 14, cột ma_don_vi: mục tiêu của đơn vị '634', không có trong districts.csv" \
        in problems(folder)


def test_switching_province_on_a_warehouse_that_received_files_is_refused(engine, settings, tmp_path):
    """core.province held two rows and every province row summed both provinces' districts; the roll-up
    failed on two staffing norms. Refused, naming both provinces, with nothing changed."""
    with engine.begin() as c:
        c.execute(sa.text("insert into dq.submission (file_name, sha256, size_bytes, archive_path, received_at, "
                          "status) values ('a.xlsx', 'x', 1, '/a', now(), 'rejected')"))
    dak_lak_config(tmp_path / "config")
    other = dataclasses.replace(settings, province="dak-lak", config_dir=tmp_path / "config")
    with pytest.raises(ProvinceConfigError) as raised:
        registry.load_province(engine, other.province_config())
    assert "kho dữ liệu này là của tỉnh Sơn La (mã 14, TONGHOP_PROVINCE=son-la) và đã nhận 1 tệp" in str(raised.value)
    assert "TONGHOP_PROVINCE=dak-lak là tỉnh Đắk Lắk (mã 66)" in str(raised.value)
    with engine.connect() as c:
        assert c.execute(sa.text("select array_agg(ma_tinh) from core.province")).scalar() == ["14"]
        assert c.execute(sa.text("select count(*) from core.target where unit_code = '643'")).scalar() == 0


def test_a_warehouse_that_received_nothing_takes_the_new_province(engine, settings, tmp_path):
    """A warehouse first started with the default (son-la), before TONGHOP_PROVINCE was set: nothing received,
    so the new province replaces it and its roll-up works."""
    dak_lak_config(tmp_path / "config")
    other = dataclasses.replace(settings, province="dak-lak", config_dir=tmp_path / "config")
    registry.load_province(engine, other.province_config())
    with engine.connect() as c:
        assert c.execute(sa.text("select array_agg(ma_tinh) from core.province")).scalar() == ["66"]
        assert c.execute(sa.text("select array_agg(ma_don_vi order by 1) from core.district")).scalar() == \
            ["643", "645", "648", "652"]
        assert c.execute(sa.text("select count(*) from core.school where ma_truong not like '66%'")).scalar() == 0
    rebuild_marts(engine)


def test_the_demo_of_a_province_without_registry_says_so(make_settings):
    """Lai Châu ships its targets only: the demo generated nothing and failed on the report's missing figures."""
    with pytest.raises(ProvinceConfigError) as raised:
        run_demo(make_settings("lai-chau"))
    assert str(raised.value).startswith("tỉnh Lai Châu chưa có danh mục đơn vị và trường (districts.csv, "
                                        "schools.csv")


def test_the_demo_of_another_province_reports_its_own_plan_phases(make_settings, tmp_path):
    """Bắc Kạn (province 06) with a registry: the demo ran, then failed on Sơn La's phase 2021-2025, which
    Bắc Kạn's targets (seed 003) do not have."""
    folder = tmp_path / "config" / "provinces" / "bac-kan"
    shutil.copytree(ROOT / "config" / "provinces" / "bac-kan", folder)
    (folder / "districts.csv").write_text("ma_don_vi,ten_don_vi,email\n058,Phòng GD&ĐT thành phố Bắc Kạn,"
                                          "a@example.org\n061,Phòng GD&ĐT huyện Ba Bể,b@example.org\n",
                                          encoding="utf-8")
    (folder / "schools.csv").write_text(
        SCHOOLS_HEADER + "\n" + "".join(f"06{d}00{i},Trường Mầm non {SCHOOL_NAMES[i]},{d},cong_lap,2010-2011,\n"
                                          for d in ("058", "061") for i in (1, 2)), encoding="utf-8")
    settings = dataclasses.replace(make_settings("bac-kan"), config_dir=tmp_path / "config")
    summary = run_demo(settings, seed=5)
    assert {v.status for v in summary.verdicts} == {"accepted"} and len(summary.verdicts) == 16
    assert [p.name for p in summary.reports] == [
        "bao-cao-nam_bac-kan_2024-2025.xlsx", "bao-cao-nam_bac-kan_2024-2025.csv",
        "bao-cao-giai-doan_bac-kan_2018-2019.xlsx", "bao-cao-giai-doan_bac-kan_2018-2019.csv"]


def test_dak_lak_end_to_end(dak_lak, tmp_path):
    """Generated workbooks of Đắk Lắk's districts, and a Sơn La district's file sent to Đắk Lắk by mistake:
    targets per unit (Buôn Ma Thuột's own, the province's on the province rows), the district sheet of the
    report under each district's name, and a rejection that says whose registry the code is not in."""
    engine = registry.ready_warehouse(dak_lak)
    province = dak_lak.province_config()
    paths = generate_province(province, "2019-2020", "CN", tmp_path / "in", seed=3)
    verdicts = ingest_files(engine, dak_lak, [*paths, SAMPLES / "quynh-nhai_2019-2020_CN.xlsx"])
    status = {v.file_name: v.status for v in verdicts}
    assert status == {**{p.name: "accepted" for p in paths}, "quynh-nhai_2019-2020_CN.xlsx": "rejected"}
    rebuild_marts(engine)
    with engine.connect() as c:
        rows = c.execute(sa.text(
            "select ma_don_vi, target, target_nam_hoc, met, value >= 60 as at_level from mart.district_indicator "
            "where nam_hoc = '2019-2020' and ky_bao_cao = 'CN' and indicator = 'cbql_gv_cd_tro_len' "
            "order by ma_don_vi")).all()
        province_row = c.execute(sa.text(
            "select target, target_nam_hoc from mart.province_indicator where nam_hoc = '2019-2020' "
            "and ky_bao_cao = 'CN' and indicator = 'hoan_thanh_bdtx'")).one()
        issue = c.execute(sa.text(
            "select rule, sheet, row_number, column_key, value, message from dq.issue "
            "where submission_id = :s and severity = 'error'"),
            {"s": next(v.submission_id for v in verdicts if v.status == "rejected")}).one()
    assert [(r.ma_don_vi, r.target, r.target_nam_hoc) for r in rows] == [
        ("643", 60, "2019-2020"), ("645", None, None), ("648", None, None), ("652", None, None)]
    assert rows[0].met == rows[0].at_level and [r.met for r in rows[1:]] == [None] * 3
    assert (province_row.target, province_row.target_nam_hoc) == (100, "2019-2020")
    assert issue[:5] == ("unknown_district", "Thông tin", 2, "ma_don_vi", "118")
    assert issue.message.endswith(
        "'Mã đơn vị' = '118' không có trong danh mục đơn vị của Sở GD&ĐT Đắk Lắk: ghi đúng mã 3 chữ số của "
        "Phòng GD&ĐT, một trong các mã 643, 645, 648, 652; nếu đơn vị thuộc tỉnh khác, đề nghị gửi báo cáo về "
        "Sở GD&ĐT của tỉnh đó.")
    xlsx = next(p for p in write_annual_report(engine, province, "2019-2020", tmp_path / "out")
                if p.suffix == ".xlsx")
    assert xlsx.name == "bao-cao-nam_dak-lak_2019-2020.xlsx"
    book = openpyxl.load_workbook(xlsx, read_only=True)
    assert next(book["Toàn tỉnh"].iter_rows(values_only=True))[0].startswith("Sở Giáo dục và Đào tạo Đắk Lắk")
    units = [row[:2] for row in book["Theo huyện"].iter_rows(min_row=4, values_only=True)]
    assert units == [(code, name) for code, name, _ in DISTRICTS]
