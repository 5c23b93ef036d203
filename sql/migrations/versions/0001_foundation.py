"""Foundation: schemas staging, core, mart, dq; dimensions, facts, marts, the analyst role.

Revision ID: 0001_foundation
Revises:
"""

from etl.migrations import run_sql_file

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0001_foundation.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
