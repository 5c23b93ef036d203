"""Province roll-ups: a set-based SQL rebuild of mart.unit_sums (sql/rollup/unit_sums.sql); the indicator
marts are views over it, so the roll-up costs about one GROUP BY over the current facts."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from etl.migrations import sql_path
from etl.warehouse import run_script

ROLLUP_SCRIPTS = ("unit_sums.sql",)
# every period with a current submission (one row per district and period: far fewer than the facts)
ALL_PERIODS = "insert into rollup_period select distinct nam_hoc, ky_bao_cao from core.current_submission"
# kept for the session (pooled connections roll up again): creating a temporary table costs more catalog
# work than a province's whole roll-up query
PERIOD_TABLE = ("create temporary table if not exists rollup_period (nam_hoc text, ky_bao_cao text) "
                "on commit delete rows")


def rebuild_marts(engine: sa.Engine, periods: Iterable[tuple[str, str]] | None = None) -> dict[str, int]:
    """Rebuild the sums of the given (nam_hoc, ky_bao_cao) periods, or of every period when None, in one
    transaction; returns the number of unit rows rebuilt and of indicator rows now in the marts."""
    with engine.begin() as c:
        c.exec_driver_sql(PERIOD_TABLE)
        if periods is None:
            c.exec_driver_sql("delete from mart.unit_sums")
            c.exec_driver_sql(ALL_PERIODS)
        else:
            rows = [{"y": y, "k": k} for y, k in set(periods)]
            if rows:
                c.execute(sa.text("insert into rollup_period values (:y, :k)"), rows)
        for name in ROLLUP_SCRIPTS:
            run_script(c, sql_path("rollup", name).read_text(encoding="utf-8"))
        units, districts, provinces, indicators = c.exec_driver_sql(
            "select count(*) filter (where (nam_hoc, ky_bao_cao) in (select * from rollup_period)), "
            "count(*) filter (where unit_type = 'district'), count(*) filter (where unit_type = 'province'), "
            "(select count(*) from core.indicator) from mart.unit_sums").one()
    return {"units_rebuilt": units,
            "district_indicator": districts * indicators,
            "province_indicator": provinces * indicators}
