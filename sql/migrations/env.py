"""Alembic environment: tonghop passes an open connection (etl.warehouse.migrate)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
