"""The schema of sloctl before migrations (commit 91af14d): create the tables that are missing.

A store written before migrations existed is upgraded from here: that sloctl created its tables
on first use, so any of them may be missing; the ones there are kept with their data.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from alembic import op

from sloctl.store.migrations.baseline_tables import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), checkfirst=True)
