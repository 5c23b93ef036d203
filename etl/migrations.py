"""Schema migrations with Alembic. The DDL of each revision is a plain SQL file under
sql/migrations/sql/, so it reads as SQL and runs on any PostgreSQL 15+."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from etl.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "sql" / "migrations"


def run_sql_file(name: str) -> None:
    """Execute one SQL file of sql/migrations/sql/ inside the running migration."""
    from etl.warehouse import run_script

    run_script(op.get_bind(), (MIGRATIONS_DIR / "sql" / name).read_text(encoding="utf-8"))


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def pending_revisions(engine: sa.Engine) -> list[str]:
    """Revisions not yet applied to the warehouse, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    pending = []
    for revision in script.walk_revisions():
        if revision.revision in current:
            break
        pending.append(revision.revision)
    return list(reversed(pending))


def upgrade(engine: sa.Engine, target: str = "head") -> list[str]:
    """Apply the pending migrations up to `target` in one transaction; returns what was applied."""
    pending = pending_revisions(engine)
    if target != "head":
        pending = pending[: pending.index(target) + 1]
    if pending:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), target)
    return pending


def sql_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath("sql", *parts)
