"""Canary judgements (``sloctl canary``, ``GET /api/v1/canary``): one row per judgement, with
the service, version and environment of the deployment it concerns (issue #16).

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, String, Text

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

RowId = BigInteger().with_variant(Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "canary_judgements",
        Column("id", RowId, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("service", String(255), nullable=False),
        Column("environment", String(255)),
        Column("version", String(255)),
        Column("verdict", String(16), nullable=False),
        Column("canary", Text, nullable=False),
        Column("baseline", Text, nullable=False),
        Column("since_seconds", Integer, nullable=False),
        Column("source", String(32), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("body", JSON, nullable=False),
    )
    op.create_index("ix_canary_judgements_service_at", "canary_judgements", ["service", "at"])
    op.create_index(
        "ix_canary_judgements_service_version", "canary_judgements", ["service", "version"]
    )


def downgrade() -> None:
    op.drop_table("canary_judgements")
