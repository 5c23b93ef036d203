"""
### tonghop_reminders: nhắc hạn nộp báo cáo

Every day at 07:00 (Asia/Ho_Chi_Minh), one task **send_reminders** e-mails the district education
offices (Phòng GD&ĐT) about the reporting deadlines of `core.reporting_period` (province configuration:
HKI 20 January, CN 15 June of the second calendar year):

- `reminder_days_before` days before a deadline (province.yaml, e.g. 7 and 2), to each expected
  district without a valid file for the period yet;
- after the deadline, to each district still `missing` or `rejected` in `mart.reporting_status`, at
  most once a week per district and period, for `reminder_overdue_max_days` (default 90).

The day is the run's logical date in Asia/Ho_Chi_Minh, so re-running a past day is deterministic. Every
reminder is recorded in `dq.alert_log` under a dedup key (district, period, kind, day offset): a second
run of the same day sends nothing twice. Mail goes through the Airflow connection `smtp_default`, or to
`$TONGHOP_HOME/outbox/` as .eml files when it is not configured. All logic lives in `etl/reminders.py`.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from etl import tasks

DEFAULT_ARGS = {"owner": "so-gddt", "retries": 2, "retry_delay": timedelta(minutes=10)}


@dag(
    dag_id="tonghop_reminders",
    schedule="0 7 * * *",
    # early enough that any day of the warehouse's reporting years can be re-run (catchup stays off)
    start_date=pendulum.datetime(2018, 8, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["tonghop", "reminders"],
    doc_md=__doc__,
)
def tonghop_reminders():
    @task
    def send_reminders(logical_date=None, dag_run=None) -> list[dict]:
        when = logical_date or (dag_run.run_after if dag_run is not None else None)
        return tasks.send_reminders(when.isoformat() if when is not None else None)

    send_reminders()


tonghop_reminders()
