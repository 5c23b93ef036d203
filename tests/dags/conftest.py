"""Airflow's metadata database (SQLite, under the temporary AIRFLOW_HOME set in tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def airflow_db():
    from airflow.utils import db

    db.resetdb()


from tests.etl.test_alerts import smtp_sink  # noqa: E402, F401 - the SMTP sink fixture, shared with the DAG runs
