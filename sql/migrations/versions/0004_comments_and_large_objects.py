"""Column comments for every analyst-facing column; large objects closed to PUBLIC.

Revision ID: 0004_comments_and_large_objects
Revises: 0003_alert_log
"""

from etl.migrations import run_sql_file

revision = "0004_comments_and_large_objects"
down_revision = "0003_alert_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0004_comments_and_large_objects.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
