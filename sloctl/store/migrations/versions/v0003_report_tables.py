"""The weekly report's tables: measured inputs per period, scorecards per (period, scope), and
one send record per (period, recipient list) for exactly-once email.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, String, Text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RowId = BigInteger().with_variant(Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _id() -> Column[int]:
    return Column("id", RowId, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "report_inputs", _id(),
        Column("period", String(64), nullable=False, unique=True),
        _at("start"), _at("end"), _at("measured_at"),
        Column("body", JSON, nullable=False),
    )
    op.create_table(
        "report_scorecards", _id(),
        Column("period", String(64), nullable=False),
        Column("scope", String(255), nullable=False),
        _at("built_at"),
        Column("body", JSON, nullable=False),
    )
    op.create_index("ix_report_scorecards_period_scope", "report_scorecards",
                    ["period", "scope"], unique=True)
    op.create_table(
        "report_sends", _id(),
        Column("key", String(64), nullable=False, unique=True),
        Column("period", String(64), nullable=False),
        Column("scope", String(255), nullable=False),
        Column("recipients", JSON, nullable=False),
        Column("message_id", String(255), nullable=False),
        Column("state", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        _at("created_at"), _at("updated_at"),
        _at("lease_until", True), _at("next_attempt_at", True), _at("sent_at", True),
        Column("last_error", Text, nullable=True),
    )
    op.create_index("ix_report_sends_period", "report_sends", ["period"])
    op.create_index("ix_report_sends_state", "report_sends", ["state"])


def downgrade() -> None:
    op.drop_table("report_sends")
    op.drop_table("report_scorecards")
    op.drop_table("report_inputs")
