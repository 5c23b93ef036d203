"""Airflow's metadata database (SQLite, under the temporary AIRFLOW_HOME set in tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def airflow_db():
    from airflow.utils import db

    db.resetdb()
