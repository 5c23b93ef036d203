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
    with engine.connect() as connection:
        return _pending(connection)


def _pending(connection: sa.Connection) -> list[str]:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    current = set(MigrationContext.configure(connection).get_current_heads())
    pending = []
    for revision in script.walk_revisions():
        if revision.revision in current:
            break
        pending.append(revision.revision)
    return list(reversed(pending))


# pg_advisory_xact_lock key of the migrations (any constant of this project's own: "tonghop" in ASCII)
MIGRATION_LOCK = 0x746F6E67686F70


def upgrade(engine: sa.Engine, target: str = "head") -> list[str]:
    """Apply the pending migrations up to `target` in one transaction; returns what was applied.

    Every task and command prepares the warehouse first, so after an upgrade two of them may start at once
    (a night's DAG and the reminders, two workers): the first takes a lock and migrates, the other waits for
    its commit and then finds nothing left to apply, instead of running the same DDL a second time."""
    if not pending_revisions(engine):
        return []
    with engine.begin() as connection:
        connection.exec_driver_sql(f"select pg_advisory_xact_lock({MIGRATION_LOCK})")
        pending = _pending(connection)
        if target != "head":
            pending = pending[: pending.index(target) + 1] if target in pending else []
        if pending:
            command.upgrade(_alembic_config(connection), target)
    return pending


def sql_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath("sql", *parts)
