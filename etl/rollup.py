"""Province roll-ups: a set-based SQL rebuild of mart.unit_sums (sql/rollup/unit_sums.sql); the indicator
marts are views over it, so the roll-up costs about one GROUP BY over the current facts."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from etl.migrations import sql_path
from etl.warehouse import run_script

ROLLUP_SCRIPTS = ("unit_sums.sql",)
ALL_PERIODS = "insert into rollup_period select distinct nam_hoc, ky_bao_cao from core.fact_school_period"


def rebuild_marts(engine: sa.Engine, periods: Iterable[tuple[str, str]] | None = None) -> dict[str, int]:
    """Rebuild the sums of the given (nam_hoc, ky_bao_cao) periods, or of every period when None, in one
    transaction; returns the number of unit rows rebuilt and of indicator rows now in the marts."""
    with engine.begin() as c:
        c.exec_driver_sql("create temporary table rollup_period (nam_hoc text, ky_bao_cao text) on commit drop")
        if periods is None:
            c.exec_driver_sql("delete from mart.unit_sums")
            c.exec_driver_sql(ALL_PERIODS)
        else:
            rows = [{"y": y, "k": k} for y, k in set(periods)]
            if rows:
                c.execute(sa.text("insert into rollup_period values (:y, :k)"), rows)
        for name in ROLLUP_SCRIPTS:
            run_script(c, sql_path("rollup", name).read_text(encoding="utf-8"))
        units = c.exec_driver_sql(
            "select count(*) from mart.unit_sums join rollup_period using (nam_hoc, ky_bao_cao)").scalar_one()
        indicators = c.exec_driver_sql("select count(*) from core.indicator").scalar_one()
        n_units = dict(c.exec_driver_sql("select unit_type, count(*) from mart.unit_sums group by 1").all())
    return {"units_rebuilt": units,
            "district_indicator": n_units.get("district", 0) * indicators,
            "province_indicator": n_units.get("province", 0) * indicators}
