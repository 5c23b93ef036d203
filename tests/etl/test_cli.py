"""`tonghop` (etl/cli.py): what an operator reads is Vietnamese, and a wrong setting says which and what exists."""

from __future__ import annotations

import pytest

from etl import cli
from tests.conftest import SAMPLES


def test_an_unknown_province_names_the_setting_and_the_provinces_configured(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TONGHOP_PROVINCE", "ha-noi")
    monkeypatch.setenv("TONGHOP_HOME", str(tmp_path))
    assert cli.main(["template", "--ma-don-vi", "118", "--out", str(tmp_path / "t.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "lỗi: không có cấu hình tỉnh 'ha-noi' (TONGHOP_PROVINCE)" in err
    assert "các tỉnh đã cấu hình: bac-kan, dak-lak, lai-chau, son-la" in err
    assert not (tmp_path / "t.xlsx").exists()


def test_stopping_a_server_tonghop_does_not_manage_is_refused_in_vietnamese(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("TONGHOP_HOME", str(tmp_path))
    assert cli.main(["warehouse", "stop"]) == 2
    assert "lỗi: WAREHOUSE_URL đã được đặt" in capsys.readouterr().err


def test_stopping_an_embedded_server_that_is_not_running_says_so_in_vietnamese(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("TONGHOP_HOME", str(tmp_path))
    assert cli.main(["warehouse", "stop"]) == 0
    assert capsys.readouterr().out.strip() == "kho dữ liệu nhúng không chạy"


def test_the_ingest_summary_counts_a_file_held_for_a_locked_period(engine, settings, use_settings, capsys):
    """A file for a locked period is held: the summary said '1 tệp: 0 chấp nhận, 0 bị từ chối, 0 trùng lặp',
    which leaves the operator wondering where the file went."""
    from etl.locks import lock_period

    use_settings(settings)
    lock_period(engine, "2019-2020", "CN", reason="đã báo cáo UBND")
    assert cli.main(["ingest", str(SAMPLES / "sop-cop_2019-2020_CN.xlsx")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("held")
    assert lines[-1] == "1 tệp: 0 chấp nhận, 0 bị từ chối, 0 trùng lặp, 1 đang giữ lại (kỳ đã khóa, chờ mở khóa)"


def test_an_unreachable_warehouse_is_one_vietnamese_line_without_the_password(monkeypatch, tmp_path, capsys):
    """A mistyped WAREHOUSE_URL or a stopped server printed a 40-line SQLAlchemy traceback in English."""
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://tonghop:s3cr3t-pw@127.0.0.1:1/tonghop")
    monkeypatch.setenv("TONGHOP_HOME", str(tmp_path))
    assert cli.main(["rollup"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lỗi: không kết nối được kho dữ liệu postgresql://tonghop:***@127.0.0.1:1/tonghop: "
                          "connection failed: ")
    assert err.rstrip().endswith("Kiểm tra WAREHOUSE_URL (máy chủ, cổng, tên cơ sở dữ liệu, người dùng, mật khẩu) "
                                 "và máy chủ PostgreSQL có đang chạy")
    assert "s3cr3t-pw" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_database_is_named(server_url, monkeypatch, tmp_path, capsys):
    from tests.conftest import _with_database

    monkeypatch.setenv("WAREHOUSE_URL", _with_database(server_url, "khong_co_csdl_nay"))
    monkeypatch.setenv("TONGHOP_HOME", str(tmp_path))
    assert cli.main(["lock", "--nam-hoc", "2019-2020", "--ky", "CN"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lỗi: không kết nối được kho dữ liệu ")
    assert 'database "khong_co_csdl_nay" does not exist' in err


@pytest.mark.parametrize(("url", "shown"), [
    ("mysql://so:pw@db.example.org/tonghop", "'mysql://so:***@db.example.org/tonghop'"),
    ("host=127.0.0.1 dbname=tonghop password=pw", "'host=127.0.0.1 dbname=tonghop password=***'"),
])
def test_a_warehouse_url_that_is_not_postgresql_is_refused_in_vietnamese(url, shown, monkeypatch, tmp_path, capsys):
    """Before, `mysql://...` was handed to psycopg ("failed to resolve host") and a libpq key=value string to
    SQLAlchemy ("Could not parse SQLAlchemy URL"), each as a traceback."""
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("TONGHOP_HOME", str(tmp_path))
    assert cli.main(["report", "--nam-hoc", "2019-2020"]) == 2
    assert capsys.readouterr().err == (
        f"lỗi: WAREHOUSE_URL không phải địa chỉ PostgreSQL: {shown}; viết dạng "
        "postgresql://NGƯỜI_DÙNG:MẬT_KHẨU@MÁY_CHỦ:CỔNG/CƠ_SỞ_DỮ_LIỆU (hoặc bỏ đặt để dùng kho nhúng)\n")


def test_settings_left_empty_take_their_defaults(monkeypatch, tmp_path):
    """`TONGHOP_HOME=` put pgdata/, landing/, archive/ ... into the current directory (the checkout), and
    `TONGHOP_PROVINCE=` failed as "không có cấu hình tỉnh 'provinces' ... các tỉnh đã cấu hình: không có"."""
    from etl.config import DEFAULT_PROVINCE, PROJECT_ROOT, Settings

    monkeypatch.chdir(tmp_path)
    for name in ("TONGHOP_HOME", "TONGHOP_PROVINCE", "WAREHOUSE_URL", "TONGHOP_CONFIG_DIR",
                 "TONGHOP_MAX_FILE_MB", "TONGHOP_MAX_UNCOMPRESSED_MB"):
        monkeypatch.setenv(name, " ")
    settings = Settings.from_env()
    assert settings.home == tmp_path / "var"
    assert settings.province == DEFAULT_PROVINCE
    assert settings.warehouse_url is None
    assert settings.config_dir == PROJECT_ROOT / "config"
    assert (settings.max_file_bytes, settings.max_uncompressed_bytes) == (20 * 1024 * 1024, 200 * 1024 * 1024)
    assert settings.province_config().slug == DEFAULT_PROVINCE


@pytest.mark.parametrize("value", ["abc", "0", "-5", "2.5"])
def test_a_size_limit_that_is_not_a_positive_number_is_named(value, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TONGHOP_HOME", str(tmp_path))
    monkeypatch.setenv("TONGHOP_MAX_FILE_MB", value)
    assert cli.main(["rollup"]) == 2
    assert capsys.readouterr().err == (
        f"lỗi: TONGHOP_MAX_FILE_MB={value!r}: phải là một số nguyên dương (đơn vị MB, mặc định 20)\n")


def test_files_ingested_by_hand_reach_the_marts(engine, settings, use_settings, tmp_path):
    """`tonghop ingest` published the files but did not roll them up, and the nightly run rebuilds only the
    periods of its own files: a district's corrected figures ingested by hand stayed out of
    mart.district_indicator (and the reports) until some later file of that period or a full rollup."""
    import sqlalchemy as sa

    from etl.generate import generate_district_workbook

    use_settings(settings)
    province = settings.province_config()
    first = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "lan-1.xlsx", seed=1)
    corrected = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "lan-2.xlsx", seed=2)
    query = sa.text("select d.value, (select sum(gv_tong) from core.fact_school_period where ma_don_vi = '127') "
                    "from mart.district_indicator d where ma_don_vi = '127' and nam_hoc = '2019-2020' "
                    "and ky_bao_cao = 'CN' and indicator = 'gv_tong'")
    for path in (first, corrected):
        assert cli.main(["ingest", str(path)]) == 0
        with engine.connect() as c:
            mart_value, core_value = c.execute(query).one()
        assert mart_value == core_value, path.name


def test_unlock_rolls_up_the_held_files_it_publishes_and_says_the_report_is_not_rewritten(engine, settings,
                                                                                         use_settings, tmp_path,
                                                                                         capsys):
    import sqlalchemy as sa

    from etl.generate import generate_district_workbook

    use_settings(settings)
    province = settings.province_config()
    first = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "lan-1.xlsx", seed=1)
    late = generate_district_workbook(province, "127", "2019-2020", "CN", tmp_path / "lan-2.xlsx", seed=2)
    assert cli.main(["ingest", str(first)]) == 0
    assert cli.main(["lock", "--nam-hoc", "2019-2020", "--ky", "CN", "--ly-do", "đã báo cáo UBND tỉnh"]) == 0
    assert cli.main(["ingest", str(late)]) == 0
    capsys.readouterr()
    assert cli.main(["unlock", "--nam-hoc", "2019-2020", "--ky", "CN", "--ly-do", "Sốp Cộp gửi lại số liệu"]) == 0
    out = capsys.readouterr().out
    assert "1 lần nộp đang giữ được cập nhật" in out
    assert "chạy 'tonghop report --nam-hoc 2019-2020' khi cần cập nhật báo cáo" in out
    with engine.connect() as c:
        mart_value, core_value = c.execute(sa.text(
            "select d.value, (select sum(gv_tong) from core.fact_school_period where ma_don_vi = '127') "
            "from mart.district_indicator d where ma_don_vi = '127' and nam_hoc = '2019-2020' "
            "and ky_bao_cao = 'CN' and indicator = 'gv_tong'")).one()
    assert mart_value == core_value
