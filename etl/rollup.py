"""Province roll-ups: a set-based SQL rebuild of the marts from core (sql/rollup/)."""

from __future__ import annotations

import sqlalchemy as sa

from etl.migrations import sql_path
from etl.warehouse import run_script

ROLLUP_SCRIPTS = ("indicators.sql",)


def rebuild_marts(engine: sa.Engine) -> dict[str, int]:
    """Rebuild mart.district_indicator and mart.province_indicator in one transaction; returns row counts."""
    with engine.begin() as connection:
        for name in ROLLUP_SCRIPTS:
            run_script(connection, sql_path("rollup", name).read_text(encoding="utf-8"))
        return {
            table: connection.execute(sa.text(f"select count(*) from mart.{table}")).scalar_one()
            for table in ("district_indicator", "province_indicator")
        }
