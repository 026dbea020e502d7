"""Maintenance windows made with ``sloctl maintenance`` (recorded, shown, reversible).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import BigInteger, Column, Integer, String, Text

from sloctl.store.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
               autoincrement=True),
        Column("service", String(255)),
        Column("slo_id", String(255)),
        Column("starts_at", UTCDateTime, nullable=False),
        Column("ends_at", UTCDateTime, nullable=False),
        Column("reason", Text, nullable=False),
        Column("author", String(255), nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("removed_at", UTCDateTime),
    )
    op.create_index(
        "ix_maintenance_windows_starts_at_ends_at", "maintenance_windows",
        ["starts_at", "ends_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_starts_at_ends_at", "maintenance_windows")
    op.drop_table("maintenance_windows")
