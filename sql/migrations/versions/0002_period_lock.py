"""Period locks (dq.period_lock).

Revision ID: 0002_period_lock
Revises: 0001_foundation
"""

from etl.migrations import run_sql_file

revision = "0002_period_lock"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0002_period_lock.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
