"""Test set-up. Airflow reads its configuration when first imported, so the environment is set here,
before any test module imports it (guides/airflow-gx.md, section 2)."""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="tonghop-airflow-")
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
        "GX_ANALYTICS_ENABLED": "False",
    }
)

import contextlib  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from etl.config import Settings  # noqa: E402

SAMPLES = SHARED / "data" / "samples"


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """libpq URL of the PostgreSQL server the tests use: WAREHOUSE_URL when set, else an embedded one."""
    from etl import warehouse

    url = os.environ.get("WAREHOUSE_URL")
    if url:
        yield warehouse.libpq_url(Settings.from_env())
        return
    # Not under pytest's basetemp: pytest prunes old basetemp folders, and a concurrent pytest run
    # (another checkout on the same machine) would delete a running server's data directory.
    home = pathlib.Path(tempfile.mkdtemp(prefix="tonghop-test-pg-"))
    settings = Settings(home=home, province="son-la", warehouse_url=None,
                        config_dir=ROOT / "config")
    yield warehouse.start_embedded(settings)
    warehouse.stop_embedded(settings)
    shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server_url: str, home: pathlib.Path, province: str = "son-la") -> Iterator[Settings]:
    """Settings pointing at a new, empty database on the test server; the database is dropped afterwards."""
    from etl.warehouse import _engine

    name = f"tonghop_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine("postgresql+psycopg" + server_url[len("postgresql"):], isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"create database {name}")
    url = _with_database(server_url, name)
    try:
        yield Settings(home=home, province=province, warehouse_url=url, config_dir=ROOT / "config")
    finally:
        _engine.cache_clear()  # its pooled connections to the dropped database are gone
        with admin.connect() as c:
            c.exec_driver_sql(f"drop database if exists {name} with (force)")
        admin.dispose()


@pytest.fixture
def make_settings(server_url, tmp_path_factory):
    """Factory of Settings pointing at a fresh, empty database on the test server (dropped afterwards)."""
    with contextlib.ExitStack() as stack:
        yield lambda province="son-la": stack.enter_context(
            fresh_database(server_url, tmp_path_factory.mktemp("home"), province))


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture
def engine(settings):
    """A migrated warehouse with the Sơn La configuration loaded."""
    from etl import registry, warehouse

    engine = warehouse.prepare(settings)
    registry.load_province(engine, settings.province_config())
    return engine


@pytest.fixture
def use_settings(monkeypatch):
    """Point the environment (what Settings.from_env reads, as DAG tasks do) at given Settings."""

    def apply(settings: Settings) -> None:
        monkeypatch.setenv("WAREHOUSE_URL", settings.warehouse_url or "")
        monkeypatch.setenv("TONGHOP_HOME", str(settings.home))
        monkeypatch.setenv("TONGHOP_PROVINCE", settings.province)

    return apply
