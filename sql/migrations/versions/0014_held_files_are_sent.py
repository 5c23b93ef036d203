"""mart.reporting_status: a district whose valid file is held (its period locked) has sent, on time or late.

Revision ID: 0014_held_files_are_sent
Revises: 0013_analyst_no_temp_elsewhere
"""

from etl.migrations import run_sql_file

revision = "0014_held_files_are_sent"
down_revision = "0013_analyst_no_temp_elsewhere"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0014_held_files_are_sent.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
