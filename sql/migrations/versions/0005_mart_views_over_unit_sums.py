"""Marts as views over one table of sums per unit and period; staging without per-row foreign keys.

Revision ID: 0005_mart_views_over_unit_sums
Revises: 0004_comments_and_large_objects
"""

from etl.migrations import run_sql_file

revision = "0005_mart_views_over_unit_sums"
down_revision = "0004_comments_and_large_objects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0005_mart_views_over_unit_sums.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
