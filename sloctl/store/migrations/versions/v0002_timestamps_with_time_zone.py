"""Timestamps with time zone: TIMESTAMP WITH TIME ZONE on PostgreSQL.

Until now every timestamp was ``timestamp without time zone`` holding naive UTC; PostgreSQL
converts each value as UTC (``AT TIME ZONE 'UTC'``), so every instant stays the same. SQLite has
no timestamp type: it keeps naive UTC text, which the store reads back as aware UTC, so nothing
changes there.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import DateTime

from sloctl.store.migrations.baseline_tables import metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _timestamp_columns() -> dict[str, list[str]]:
    """Table -> its timestamp columns, as of revision 0001."""
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, DateTime)]
        if names:
            found[table.name] = names
    return found


def _alter(sql_type: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in _timestamp_columns().items():
        changes = ", ".join(
            f'ALTER COLUMN "{c}" TYPE {sql_type} USING "{c}" AT TIME ZONE \'UTC\'' for c in columns
        )
        op.execute(f'ALTER TABLE "{table}" {changes}')  # one table rewrite for all its columns


def upgrade() -> None:
    _alter("TIMESTAMP WITH TIME ZONE")


def downgrade() -> None:
    _alter("TIMESTAMP WITHOUT TIME ZONE")
