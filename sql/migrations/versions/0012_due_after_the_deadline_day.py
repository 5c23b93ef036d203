"""mart.reporting_status: a period is due the day after its deadline, not on the deadline day.

Revision ID: 0012_due_after_the_deadline_day
Revises: 0011_school_facts_by_key_only
"""

from etl.migrations import run_sql_file

revision = "0012_due_after_the_deadline_day"
down_revision = "0011_school_facts_by_key_only"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0012_due_after_the_deadline_day.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
