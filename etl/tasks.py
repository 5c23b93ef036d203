"""The thin adapter between Airflow and the library: one function per DAG task, each taking and
returning plain JSON-serialisable values (XCom) and reading its configuration from the environment,
so the same call runs from a test, the CLI or a Celery worker."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from etl.config import Settings
from etl.ingest import find_files, ingest_landing
from etl.registry import ready_warehouse
from etl.report import write_annual_report
from etl.rollup import roll_up_accepted


def scan_landing() -> list[dict]:
    """The files waiting in the landing folder, each with its size and modification time: a retried ingest
    finds by them the files its failed attempt decided and moved out (`etl.ingest.decided_since_scan`)."""
    settings = Settings.from_env()
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    scanned = []
    for path in find_files([settings.landing_dir]):
        try:
            stat = path.stat()
        except OSError:  # gone since: the ingest reports it as not received
            scanned.append({"path": str(path)})
            continue
        scanned.append({"path": str(path), "size": stat.st_size, "mtime": stat.st_mtime})
    return scanned


def ingest_landing_files(scanned: list[dict | str]) -> list[dict]:
    """Ingest the scanned files; each leaves the landing folder once it has a verdict and its bytes are
    archived. A retry answers the files its failed attempt already decided with their verdicts, those still
    in the landing folder and those it moved out. (A bare path: a scan's result from before the sizes.)"""
    settings = Settings.from_env()
    entries = [{"path": s} if isinstance(s, str) else s for s in scanned]
    paths = [Path(e["path"]) for e in entries]
    at_scan = {Path(e["path"]): (int(e["size"]), float(e["mtime"])) for e in entries if "size" in e}
    verdicts = ingest_landing(ready_warehouse(settings), settings, paths, scanned=at_scan)
    return [asdict(v) for v in verdicts]


def rollup(verdicts: list[dict] | None = None) -> dict[str, int]:
    """Rebuild the marts of the periods that received accepted files, then flag cross-district outliers
    there (etl.rollup.roll_up_accepted)."""
    settings = Settings.from_env()
    return roll_up_accepted(ready_warehouse(settings), settings.province_config(), verdicts or [])


def write_reports(verdicts: list[dict]) -> list[str]:
    """Refresh the annual report of every school year touched by tonight's accepted CN files."""
    settings = Settings.from_env()
    engine = ready_warehouse(settings)
    years = sorted({v["nam_hoc"] for v in verdicts if v["status"] == "accepted" and v["ky_bao_cao"] == "CN"})
    paths: list[str] = []
    for nam_hoc in years:
        paths += [str(p) for p in write_annual_report(engine, settings.province_config(), nam_hoc,
                                                      settings.reports_dir)]
    return paths


def send_alerts(verdicts: list[dict]) -> dict:
    """Tell each district about the findings on tonight's files (its workbook annotated) and the Sở the summary;
    through the SMTP connection smtp_default if configured, else into $TONGHOP_HOME/outbox/ (etl/mail.py)."""
    from etl.alerts import send_nightly_alerts

    settings = Settings.from_env()
    ids = [int(v["submission_id"]) for v in verdicts if v.get("submission_id") is not None]
    return send_nightly_alerts(ready_warehouse(settings), settings, ids)


def send_reminders(logical_date_iso: str | None = None) -> list[dict]:
    """Deadline reminders due on the run's logical date (its calendar day in Asia/Ho_Chi_Minh), each sent once."""
    from etl.reminders import local_date, send_due_reminders

    settings = Settings.from_env()
    return send_due_reminders(ready_warehouse(settings), settings, local_date(logical_date_iso))
