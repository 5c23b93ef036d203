"""District facts and training courses without per-row foreign keys (constrained through current_submission).

Revision ID: 0007_district_facts_no_row_fks
Revises: 0006_append_only_staging
"""

from etl.migrations import run_sql_file

revision = "0007_district_facts_no_row_fks"
down_revision = "0006_append_only_staging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0007_district_facts_no_row_fks.sql")


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
