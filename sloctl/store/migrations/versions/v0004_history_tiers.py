"""History tiers: hourly and daily roll-ups of the evaluations; alert transitions outlive them.

``slo_rollups`` and ``signal_rollups`` hold one row per hour, then per UTC day, and SLO or service:
the last, least and greatest stored value of each charted column (``sloctl db prune`` and
``sloctl serve`` fill them from the evaluations they prune). Alert transitions are never pruned:
their link to the evaluation that wrote them becomes NULL when that evaluation is (``ON DELETE
SET NULL`` instead of ``CASCADE``). Nothing existing is deleted or rewritten, but
``alert_transitions`` is copied into a new table on SQLite (which cannot alter a foreign key).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The charted columns as of this revision (frozen: later changes of schema.py do not apply).
SLO_COLUMNS = ("sli", "budget_remaining", "budget_remaining_minutes", "burn_rate_1h",
               "burn_rate_6h", "burn_rate_1d", "burn_rate_3d", "burn_rate_period")
SIGNAL_COLUMNS = ("traffic", "error_ratio", "latency_p50", "latency_p95", "latency_p99",
                  "saturation")
FK = "fk_alert_transitions_evaluation_id_evaluations"
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create(name: str, key: str, extra: list[sa.Column[object]], values: tuple[str, ...]) -> None:
    op.create_table(
        name,
        sa.Column(key, sa.String(255), nullable=False),
        sa.Column("resolution", sa.Integer, nullable=False),
        sa.Column("bucket", sa.BigInteger, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        *extra,
        *(sa.Column(f"{v}{s}", sa.Double) for v in values for s in ("", "_min", "_max")),
        sa.PrimaryKeyConstraint(key, "resolution", "bucket", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_resolution_bucket", name, ["resolution", "bucket"])


def _transitions_fk(ondelete: str, nullable: bool) -> None:
    with op.batch_alter_table("alert_transitions") as batch:  # SQLite: copies the table
        batch.drop_constraint(FK, type_="foreignkey")
        batch.alter_column("evaluation_id", existing_type=RowId, nullable=nullable)
        batch.create_foreign_key(FK, "evaluations", ["evaluation_id"], ["id"], ondelete=ondelete)


def upgrade() -> None:
    _create("slo_rollups", "slo_id", [sa.Column("service", sa.String(255), nullable=False),
                                      sa.Column("objective", sa.Double, nullable=False)],
            SLO_COLUMNS)
    _create("signal_rollups", "service", [], SIGNAL_COLUMNS)
    _transitions_fk("SET NULL", nullable=True)


def downgrade() -> None:
    orphans = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM alert_transitions WHERE evaluation_id IS NULL"))
    if orphans:
        raise RuntimeError(
            f"{orphans} alert transitions outlived their pruned evaluations; revision 0003 "
            "cannot hold them (its link is NOT NULL): downgrading would lose them")
    _transitions_fk("CASCADE", nullable=False)
    for name in ("signal_rollups", "slo_rollups"):
        op.drop_index(f"ix_{name}_resolution_bucket", name)
        op.drop_table(name)
