"""Append-only staging (BRIN on submission_id, no primary keys); facts without per-row foreign keys.

Revision ID: 0006_append_only_staging
Revises: 0005_mart_views_over_unit_sums
"""

from etl.migrations import run_sql_file

revision = "0006_append_only_staging"
down_revision = "0005_mart_views_over_unit_sums"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0006_append_only_staging.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
