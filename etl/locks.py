"""Locking a reported period, and unlocking it with a recorded reason (which publishes what was held)."""

from __future__ import annotations

import sqlalchemy as sa

from etl import load


class LockError(ValueError):
    """A lock request that cannot be carried out (message in Vietnamese, for the Sở's operator)."""


def locked_periods(connection: sa.Connection) -> set[tuple[str, str]]:
    rows = connection.execute(
        sa.text("select nam_hoc, ky_bao_cao from dq.period_lock where unlocked_at is null")).all()
    return {(r.nam_hoc, r.ky_bao_cao) for r in rows}


def lock_period(engine: sa.Engine, nam_hoc: str, ky_bao_cao: str, *, reason: str | None = None,
                by: str | None = None) -> int:
    with engine.begin() as c:
        if (nam_hoc, ky_bao_cao) in locked_periods(c):
            raise LockError(f"kỳ {ky_bao_cao} năm học {nam_hoc} đã được khóa")
        return c.execute(
            sa.text("insert into dq.period_lock (nam_hoc, ky_bao_cao, lock_reason, locked_by) "
                    "values (:y, :k, :r, coalesce(:by, current_user)) returning lock_id"),
            {"y": nam_hoc, "k": ky_bao_cao, "r": reason, "by": by},
        ).scalar_one()


def unlock_period(engine: sa.Engine, nam_hoc: str, ky_bao_cao: str, *, reason: str,
                  by: str | None = None) -> list[int]:
    """Unlock and publish the submissions held meanwhile (the latest per district becomes current).
    Returns the ids of the held submissions that were published."""
    if not reason or not reason.strip():
        raise LockError("cần ghi rõ lý do mở khóa (--ly-do)")
    with engine.begin() as c:
        updated = c.execute(
            sa.text("update dq.period_lock set unlocked_at = now(), unlock_reason = :r, "
                    "unlocked_by = coalesce(:by, current_user) "
                    "where nam_hoc = :y and ky_bao_cao = :k and unlocked_at is null"),
            {"y": nam_hoc, "k": ky_bao_cao, "r": reason.strip(), "by": by},
        ).rowcount
        if not updated:
            raise LockError(f"kỳ {ky_bao_cao} năm học {nam_hoc} không bị khóa")
        held = list(c.execute(
            sa.text("select submission_id from dq.submission where status = 'held' and nam_hoc = :y "
                    "and ky_bao_cao = :k order by submission_id"), {"y": nam_hoc, "k": ky_bao_cao}).scalars())
        load.publish_accepted(c, held)
    return held
