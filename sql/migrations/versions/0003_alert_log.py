"""Alert log (dq.alert_log): e-mails sent or written to the outbox, with reminder dedup keys.

Revision ID: 0003_alert_log
Revises: 0002_period_lock
"""

from etl.migrations import run_sql_file

revision = "0003_alert_log"
down_revision = "0002_period_lock"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0003_alert_log.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
