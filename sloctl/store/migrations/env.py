"""Alembic's environment: runs the migrations on the connection ``sloctl.store.migrate`` passes.

That connection is already inside a transaction (BEGIN IMMEDIATE on SQLite): every revision of
one upgrade commits together or rolls back together, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from alembic import context

from sloctl.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    transactional_ddl=True,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
)
with context.begin_transaction():
    context.run_migrations()
