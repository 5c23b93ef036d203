"""core.fact_school_period keeps its primary key only; a submission's facts are found through its staged schools.

Revision ID: 0011_school_facts_by_key_only
Revises: 0010_school_type_as_reported
"""

from etl.migrations import run_sql_file

revision = "0011_school_facts_by_key_only"
down_revision = "0010_school_type_as_reported"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0011_school_facts_by_key_only.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
