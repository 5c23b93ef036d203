"""Airflow plugin: a read-only JSON view of tonghop's state, mounted in the API server at /tonghop/.

GET /tonghop/health -> {"status": "ok"}; GET /tonghop/reporting-status -> submissions per status and the
latest due periods per district (etl.status). Logic lives in etl/; this file only mounts it."""

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI

from etl import status

status_app = FastAPI(title="tonghop status")


@status_app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@status_app.get("/reporting-status")
def reporting_status() -> dict:
    return status.current_overview()


class TonghopStatusPlugin(AirflowPlugin):
    name = "tonghop_status"
    fastapi_apps = [{"app": status_app, "url_prefix": "/tonghop", "name": "tonghop status"}]
    external_views = [{"name": "Tình hình nộp báo cáo", "href": "/tonghop/reporting-status", "destination": "nav",
                       "url_route": "tonghop_reporting_status"}]
