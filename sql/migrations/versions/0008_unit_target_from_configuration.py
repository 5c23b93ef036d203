"""mart.unit_target rebuilt when the configuration is loaded, not by every roll-up.

Revision ID: 0008_unit_target_from_config
Revises: 0007_district_facts_no_row_fks
"""

from alembic import op

from etl.migrations import run_sql_file, sql_path
from etl.warehouse import run_script

revision = "0008_unit_target_from_config"
down_revision = "0007_district_facts_no_row_fks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0008_unit_target_from_configuration.sql")
    # filled from the targets already in core.target (a configuration loaded before this migration)
    run_script(op.get_bind(), sql_path("rollup", "unit_target.sql").read_text(encoding="utf-8"))


def downgrade() -> None:
    raise NotImplementedError("the warehouse keeps every version: restore from backup instead")
