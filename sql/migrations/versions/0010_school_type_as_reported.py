"""core.fact_school_period.loai_hinh is always the reported school type (publishing reads no registry).

Revision ID: 0010_school_type_as_reported
Revises: 0009_province_sums_on_read
"""

from etl.migrations import run_sql_file

revision = "0010_school_type_as_reported"
down_revision = "0009_province_sums_on_read"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0010_school_type_as_reported.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
