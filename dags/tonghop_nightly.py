"""
### tonghop_nightly: tổng hợp báo cáo hằng đêm

Every night at 01:00 (Asia/Ho_Chi_Minh), and whenever the Sở triggers it by hand:

1. **scan_landing**: list the district files waiting in `$TONGHOP_HOME/landing/`;
2. **ingest**: archive each file byte for byte, record it in `dq.submission`, read and validate the
   whole batch (one Great Expectations call per suite for all files), load staging, publish accepted
   submissions into `core`; each file leaves the landing folder once it has a verdict;
3. **rollup**: rebuild `mart.district_sums` for the periods that received accepted files (the indicator views
   `mart.district_indicator`, `mart.province_indicator` read it), then flag cross-district outliers;
4. **write_reports**: refresh the annual report of every school year that received end-of-year data;
5. **send_alerts**: e-mail each district with findings (its own workbook annotated attached) and the
   Sở a summary (SMTP connection `smtp_default`, else `.eml` files in `$TONGHOP_HOME/outbox/`).

All logic lives in `etl/` (`etl.tasks`); this file only wires it. Ingest is one task for the batch, not
one mapped task per file, because validation cost is per call, not per row (docs/architecture.md).
"""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from etl import tasks

DEFAULT_ARGS = {"owner": "so-gddt", "retries": 2, "retry_delay": timedelta(minutes=5)}


@dag(
    dag_id="tonghop_nightly",
    schedule="0 1 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tonghop", "nightly"],
    doc_md=__doc__,
)
def tonghop_nightly():
    @task
    def scan_landing() -> list[dict]:
        return tasks.scan_landing()

    @task
    def ingest(scanned: list[dict]) -> list[dict]:
        return tasks.ingest_landing_files(scanned)

    @task
    def rollup(verdicts: list[dict]) -> dict[str, int]:
        return tasks.rollup(verdicts)

    @task
    def write_reports(verdicts: list[dict], marts: dict[str, int]) -> list[str]:
        return tasks.write_reports(verdicts)

    @task
    def send_alerts(verdicts: list[dict], marts: dict[str, int]) -> dict:
        return tasks.send_alerts(verdicts)

    verdicts = ingest(scan_landing())
    marts = rollup(verdicts)
    write_reports(verdicts, marts)
    send_alerts(verdicts, marts)


tonghop_nightly()
