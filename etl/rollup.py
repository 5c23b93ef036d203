"""Province roll-ups: a set-based SQL rebuild of mart.unit_sums (sql/rollup/unit_sums.sql); the indicator
marts are views over it, so the roll-up costs about one GROUP BY over the current facts."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from etl.migrations import sql_path
from etl.warehouse import run_script

ROLLUP_SCRIPTS = ("unit_sums.sql",)
# every period with a current submission (one row per district and period: far fewer than the facts), and
# every period the marts hold (rebuilt to nothing if it has no current submission any more)
ALL_PERIODS = ("insert into rollup_period select nam_hoc, ky_bao_cao from core.current_submission "
               "union select nam_hoc, ky_bao_cao from mart.unit_sums")
# what rebuild_marts returns, read in the same round trip as the script
COUNTS = ("select count(*) filter (where (nam_hoc, ky_bao_cao) in (select * from rollup_period)), "
          "count(*) filter (where unit_type = 'district'), count(*) filter (where unit_type = 'province'), "
          "(select count(*) from core.indicator) from mart.unit_sums")
# kept for the session (pooled connections roll up again): creating a temporary table costs more catalog
# work than a province's whole roll-up query
PERIOD_TABLE = ("create temporary table if not exists rollup_period (nam_hoc text, ky_bao_cao text) "
                "on commit delete rows")


def rebuild_marts(engine: sa.Engine, periods: Iterable[tuple[str, str]] | None = None) -> dict[str, int]:
    """Rebuild the sums of the given (nam_hoc, ky_bao_cao) periods, or of every period when None, in one
    transaction; returns the number of unit rows rebuilt and of indicator rows now in the marts."""
    with engine.begin() as c:
        if periods is None:
            script = [PERIOD_TABLE, ALL_PERIODS]
        else:
            c.exec_driver_sql(PERIOD_TABLE)
            rows = [{"y": y, "k": k} for y, k in set(periods)]
            if rows:
                c.execute(sa.text("insert into rollup_period values (:y, :k)"), rows)
            script = []
        script += [sql_path("rollup", name).read_text(encoding="utf-8") for name in ROLLUP_SCRIPTS]
        # one round trip: the roll-up is milliseconds on a province, so each statement sent costs
        statements = [part.strip().rstrip(";") for part in [*script, COUNTS]]
        units, districts, provinces, indicators = run_script(c, ";\n".join(statements))
    return {"units_rebuilt": units,
            "district_indicator": districts * indicators,
            "province_indicator": provinces * indicators}
