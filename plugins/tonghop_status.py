"""Airflow plugin: a read-only JSON view of tonghop's state, mounted in the API server at /tonghop/.

GET /tonghop/health -> {"status": "ok"}; GET /tonghop/reporting-status -> submissions per status and the
latest due periods per district (etl.status). Logic lives in etl/; this file only mounts it."""

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from etl import status
from etl.warehouse import WarehouseUnavailable

status_app = FastAPI(title="tonghop status")


@status_app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@status_app.get("/reporting-status", response_model=None)
def reporting_status() -> dict | JSONResponse:
    try:
        return status.current_overview()
    except WarehouseUnavailable as exc:  # a stopped warehouse is a 503 that says why, not a bare 500
        return JSONResponse(status_code=503, content={"error": str(exc)})


class TonghopStatusPlugin(AirflowPlugin):
    name = "tonghop_status"
    fastapi_apps = [{"app": status_app, "url_prefix": "/tonghop", "name": "tonghop status"}]
    external_views = [{"name": "Tình hình nộp báo cáo", "href": "/tonghop/reporting-status", "destination": "nav",
                       "url_route": "tonghop_reporting_status"}]
