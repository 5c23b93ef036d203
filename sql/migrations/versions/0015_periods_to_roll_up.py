"""mart.period_to_roll_up: periods published since their last roll-up, taken by the next roll-up.

Revision ID: 0015_periods_to_roll_up
Revises: 0014_held_files_are_sent
"""

from etl.migrations import run_sql_file

revision = "0015_periods_to_roll_up"
down_revision = "0014_held_files_are_sent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0015_periods_to_roll_up.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
