"""Province roll-ups: a set-based SQL rebuild of mart.district_sums (sql/rollup/district_sums.sql); the
province rows (the view mart.unit_sums) and the indicator marts are views over it, so the roll-up costs
about one GROUP BY over the current facts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from etl.config import ProvinceConfig
from etl.migrations import sql_path
from etl.warehouse import run_script

ROLLUP_SCRIPTS = ("district_sums.sql",)
# pg_advisory_xact_lock key of a rebuild ("tonghopr" in ASCII; ingest holds "tonghopi", the migrations "tonghop")
ROLLUP_LOCK = 0x746F6E67686F7072
ONE_AT_A_TIME = f"select pg_advisory_xact_lock({ROLLUP_LOCK})"
# what rebuild_marts returns, read in the same round trip as the script: the unit rows of the periods
# rebuilt (all of them when rollup_period lists none), and the units of each level now in the marts. The
# province rows are counted from the district rows they are summed from (one per province and period).
IN_PERIODS = "(not exists (select from rollup_period) or (nam_hoc, ky_bao_cao) in (select * from rollup_period))"
PROVINCES = "(select count(*) from core.province)"
UNIT_COUNTS = (f"select count(*), count(distinct (nam_hoc, ky_bao_cao)) * {PROVINCES}, "
               "(select count(*) from core.indicator) from mart.district_sums")
COUNTS = (f"select count(*) filter (where {IN_PERIODS}) "
          f"+ count(distinct (nam_hoc, ky_bao_cao)) filter (where {IN_PERIODS}) * {PROVINCES}, "
          + UNIT_COUNTS.removeprefix("select "))
# the periods published since their last roll-up (mart.period_to_roll_up, written by sql/load/publish.sql) are
# rebuilt with the ones asked for: a night whose roll-up failed after its ingest committed is caught up by
# the next roll-up, whatever periods that one is asked for. Returns how many periods are to be rebuilt.
TAKE_WAITING = ("with taken as (delete from mart.period_to_roll_up returning nam_hoc, ky_bao_cao), "
                "added as (insert into rollup_period select * from taken except select * from rollup_period "
                "returning 1) "
                "select (select count(*) from rollup_period) + (select count(*) from added)")
TAKE_ALL_WAITING = "delete from mart.period_to_roll_up"
# the periods to rebuild, none meaning all; kept for the session (pooled connections roll up again): creating
# a temporary table costs more catalog work than a province's whole roll-up query
PERIOD_TABLE = ("create temporary table if not exists rollup_period (nam_hoc text, ky_bao_cao text) "
                "on commit delete rows")


def rebuild_marts(engine: sa.Engine, periods: Iterable[tuple[str, str]] | None = None) -> dict[str, int]:
    """Rebuild the sums of the given (nam_hoc, ky_bao_cao) periods, or of every period when None, in one
    transaction; returns the number of unit rows rebuilt and of indicator rows now in the marts.

    With None, the marts are emptied and every fact is summed, with no period filter to apply: a period
    that has no current submission any more is rebuilt to nothing. The periods published since their last
    roll-up (mart.period_to_roll_up) are rebuilt with the given ones, so an empty `periods` rebuilds only
    those (nothing when the marts are up to date)."""
    with engine.begin() as c:
        return rebuild_marts_in(c, periods)


def rebuild_marts_in(c: sa.Connection, periods: Iterable[tuple[str, str]] | None = None) -> dict[str, int]:
    """rebuild_marts inside the caller's transaction (a configuration load that changes what every period
    sums to rebuilds them with it, so no reader sees the new configuration with the old sums)."""
    rows = None if periods is None else [{"y": y, "k": k} for y, k in set(periods)]
    script = [sql_path("rollup", name).read_text(encoding="utf-8") for name in ROLLUP_SCRIPTS]
    # One rebuild at a time (a transaction lock, first): `tonghop rollup` typed while the nightly task rebuilt
    # the same periods deleted their rows too late to see the other's new ones, and failed on the primary key.
    if rows is None:  # every period: the periods waiting for their roll-up are all done by it
        script[:0] = [ONE_AT_A_TIME, PERIOD_TABLE, TAKE_ALL_WAITING]
    else:
        run_script(c, f"{ONE_AT_A_TIME};\n{PERIOD_TABLE}")
        if rows:
            c.execute(sa.text("insert into rollup_period values (:y, :k)"), rows)
        # Taken before the facts are read: a publish committing meanwhile records its period again (its
        # insert waits for this delete), so it is never taken without being summed. Unanalysed, the temporary
        # table is guessed to hold thousands of periods, and planned for that.
        if not run_script(c, f"{TAKE_WAITING};\nanalyze rollup_period;\nselect count(*) from rollup_period")[0]:
            districts, provinces, indicators = c.exec_driver_sql(UNIT_COUNTS).one()
            return _counts(0, districts, provinces, indicators)  # nothing to rebuild (none would mean every one)
    # one round trip: the roll-up is milliseconds on a province, so each statement sent costs
    statements = [part.strip().rstrip(";") for part in [*script, COUNTS]]
    return _counts(*run_script(c, ";\n".join(statements)))


def roll_up_accepted(engine: sa.Engine, province: ProvinceConfig,
                     verdicts: Iterable[Mapping[str, object]]) -> dict[str, int]:
    """After an ingest (the nightly task, or `tonghop ingest` by hand): rebuild the marts of the periods that
    received accepted files, then flag cross-district outliers there (they need every district's value, so
    they come after the roll-up and before the alerts). Every path that publishes files rolls them up:
    the nightly roll-up rebuilds only tonight's periods, so a period published by hand and not rolled up
    kept its old figures in the marts until some later file of that period or a full `tonghop rollup`."""
    from etl.history import flag_outliers

    accepted = [v for v in verdicts if v["status"] == "accepted"]
    counts = rebuild_marts(engine, {(str(v["nam_hoc"]), str(v["ky_bao_cao"])) for v in accepted})
    counts["outliers"] = flag_outliers(engine, province, [int(str(v["submission_id"])) for v in accepted])
    return counts


def _counts(units: int, districts: int, provinces: int, indicators: int) -> dict[str, int]:
    return {"units_rebuilt": units,
            "district_indicator": districts * indicators,
            "province_indicator": provinces * indicators}
