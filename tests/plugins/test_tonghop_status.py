"""The status plugin: registered without import errors, and its endpoints answer from the warehouse."""

import importlib.util

from fastapi.testclient import TestClient

from etl.ingest import ingest_files
from tests.conftest import ROOT, SAMPLES


def load_plugin():
    spec = importlib.util.spec_from_file_location("tonghop_status", ROOT / "plugins" / "tonghop_status.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plugin_registers_cleanly():
    from airflow import plugins_manager

    assert plugins_manager.get_import_errors() == {}
    assert load_plugin().TonghopStatusPlugin.name == "tonghop_status"


def test_reporting_status_endpoint(engine, settings, use_settings):
    ingest_files(engine, settings, [SAMPLES / "quynh-nhai_2019-2020_CN.xlsx"])
    use_settings(settings)
    client = TestClient(load_plugin().status_app)
    assert client.get("/health").json() == {"status": "ok"}
    body = client.get("/reporting-status").json()
    assert body["submissions"] == {"accepted": 1}
    assert body["periods"][0]["deadline"] >= "2026-01-20"
    assert {row["status"] for row in body["districts"]} <= {"on_time", "late", "missing", "rejected"}


def test_reporting_status_when_the_warehouse_is_down_says_so(settings, use_settings, monkeypatch):
    use_settings(settings)
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:1/khong_co")
    response = TestClient(load_plugin().status_app).get("/reporting-status")
    assert response.status_code == 503
    assert "127.0.0.1:1" in response.json()["error"]
