"""Test set-up. Airflow reads its configuration when first imported, so the environment is set here,
before any test module imports it (guides/airflow-gx.md, section 2)."""

from __future__ import annotations

import os
import pathlib
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
