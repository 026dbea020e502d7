"""One stored evaluation per interval slot of ``sloctl serve``: ``evaluations.cycle_slot``.

Replicas on one store elect a leader that evaluates (``sloctl.runtime.leadership``); the unique
slot is the store's own guarantee that a cycle is never stored twice, even by two processes that
both believe they lead. Existing rows keep NULL (several NULLs are allowed by a unique index).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column

from sloctl.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evaluations", Column("cycle_slot", UTCDateTime))
    op.create_index("ux_evaluations_cycle_slot", "evaluations", ["cycle_slot"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_evaluations_cycle_slot", "evaluations")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("cycle_slot")
