"""Province sums read from the district sums: mart.district_sums (table), mart.unit_sums (view).

Revision ID: 0009_province_sums_on_read
Revises: 0008_unit_target_from_config
"""

from etl.migrations import run_sql_file

revision = "0009_province_sums_on_read"
down_revision = "0008_unit_target_from_config"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0009_province_sums_on_read.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
