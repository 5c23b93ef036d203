"""The night's state at a glance, for the Airflow UI plugin and scripts: submissions per status and
the reporting status of the latest due periods."""

from __future__ import annotations

import sqlalchemy as sa

from etl import warehouse
from etl.config import Settings


def reporting_overview(engine: sa.Engine, *, periods: int = 2) -> dict:
    """Submission counts per status, and per district the status of the latest `periods` due periods."""
    with engine.connect() as c:
        by_status = dict(c.execute(sa.text("select status, count(*) from dq.submission group by status")).all())
        latest = c.execute(sa.text(
            "select nam_hoc, ky_bao_cao, deadline from (select distinct nam_hoc, ky_bao_cao, deadline "
            "from mart.reporting_status) p order by deadline desc limit :n"), {"n": periods}).all()
        rows = c.execute(sa.text(
            "select r.nam_hoc, r.ky_bao_cao, r.ma_don_vi, d.ten_don_vi, r.status, r.submission_id "
            "from mart.reporting_status r join core.district d using (ma_don_vi) "
            "where (r.nam_hoc, r.ky_bao_cao) in (select nam_hoc, ky_bao_cao from mart.reporting_status "
            "group by 1, 2 order by max(deadline) desc limit :n) order by r.nam_hoc desc, r.ky_bao_cao, r.ma_don_vi"),
            {"n": periods}).mappings().all()
    return {
        "submissions": by_status,
        "periods": [{"nam_hoc": p.nam_hoc, "ky_bao_cao": p.ky_bao_cao, "deadline": p.deadline.isoformat()}
                    for p in latest],
        "districts": [dict(r) for r in rows],
    }


def current_overview() -> dict:
    settings = Settings.from_env()
    return reporting_overview(warehouse.prepare(settings))
