"""The analyst role cannot create temporary tables in the server's maintenance database `postgres` either.

Revision ID: 0013_analyst_no_temp_elsewhere
Revises: 0012_due_after_the_deadline_day
"""

from etl.migrations import run_sql_file

revision = "0013_analyst_no_temp_elsewhere"
down_revision = "0012_due_after_the_deadline_day"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0013_analyst_no_temp_elsewhere.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
