"""Compact raw rows: an evaluation's alerts, an SLO row's windows and decisions, exactly.

The raw tier held 733 MB a day at 100 services x 2 SLOs every 60 s (``bench/store_growth.py``):
each SLO row carried its windows and decisions as JSON text (17-digit floats), each evaluation
every alert status in full, inactive ones included. Now (see ``sloctl.store.codec``):

- ``slo_results.detail`` (msgpack) holds what an SLOStatus has besides its charted columns,
  ``service`` and ``objective``: the name, period, budget, windows, decisions, exhaustion and
  reason; values the SLO formulas give back bit for bit are left out. The columns ``name``,
  ``period``, ``period_elapsed``, ``error_budget``, ``budget_total_minutes``,
  ``budget_remaining_events``, ``exhaustion_at``, ``breaching``, ``reason``, ``windows`` and
  ``decisions`` are dropped.
- ``evaluations.alert_entries`` (msgpack; NULL: no alert) replaces ``evaluations.alerts``: per
  alert what changes each cycle, naming its static part (key, rule, service, SLO, severity,
  threshold, labels) by a row of the new ``alert_identities``.
- ``signal_results.signal_order`` (NULL: every signal, in order) replaces ``signals``.

Every existing row is converted in this revision's transaction (values read back unchanged,
bit for bit); the downgrade converts them back. SQLite: ``evaluations`` loses its column with
ALTER TABLE DROP COLUMN (copying it would cascade deletes to its children), the two child tables
are copied; after a downgrade ``evaluations.alerts`` stays nullable there.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from sloctl.store import codec, identities
from sloctl.store.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 1000
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Name = sa.String(255)

# The tables as this revision sees them (frozen: later changes of schema.py do not apply).
frozen = sa.MetaData()


def _identity_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("rule", Name, nullable=False),
        sa.Column("service", Name, nullable=False),
        sa.Column("slo_id", Name),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("threshold", sa.Double, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
    ]


IDENTITIES = sa.Table("alert_identities", frozen, *_identity_columns())
EVALUATIONS = sa.Table(
    "evaluations", frozen,
    sa.Column("id", RowId, primary_key=True),
    sa.Column("at", UTCDateTime),
    sa.Column("alerts", sa.JSON),
    sa.Column("alert_entries", sa.LargeBinary),
)
# slo_results' columns that ``detail`` replaces (nullable: whether the old schema allowed NULL)
MOVED: tuple[tuple[str, sa.types.TypeEngine[Any], bool], ...] = (
    ("name", Name, False),
    ("period", sa.Integer(), False),
    ("period_elapsed", sa.Integer(), False),
    ("error_budget", sa.Double(), False),
    ("budget_total_minutes", sa.Double(), False),
    ("budget_remaining_events", sa.Double(), True),
    ("exhaustion_at", UTCDateTime(), True),
    ("breaching", sa.Boolean(), True),
    ("reason", sa.Text(), True),
    ("windows", sa.JSON(), False),
    ("decisions", sa.JSON(), False),
)
KEPT = ("slo_id", "service", "objective", "at", "sli", "budget_remaining",
        "budget_remaining_minutes")
SLO_RESULTS = sa.Table(
    "slo_results", frozen,
    sa.Column("id", RowId, primary_key=True),
    sa.Column("slo_id", Name), sa.Column("service", Name), sa.Column("objective", sa.Double),
    sa.Column("at", UTCDateTime), sa.Column("sli", sa.Double),
    sa.Column("budget_remaining", sa.Double), sa.Column("budget_remaining_minutes", sa.Double),
    *(sa.Column(name, type_) for name, type_, _ in MOVED),
    sa.Column("detail", sa.LargeBinary),
)
SIGNAL_RESULTS = sa.Table(
    "signal_results", frozen,
    sa.Column("id", RowId, primary_key=True),
    sa.Column("signals", sa.JSON),
    sa.Column("signal_order", sa.String(16)),
)


def _rows(conn: sa.Connection, table: sa.Table, names: tuple[str, ...]) -> Iterator[list[Any]]:
    """The rows of ``table`` (``id`` and ``names``), BATCH at a time in id order."""
    last = None
    while True:
        query = sa.select(table.c.id, *(table.c[n] for n in names)).order_by(table.c.id)
        if last is not None:
            query = query.where(table.c.id > last)
        batch = list(conn.execute(query.limit(BATCH)).mappings())
        if not batch:
            return
        yield batch
        last = batch[-1]["id"]


def _convert(conn: sa.Connection, table: sa.Table, names: tuple[str, ...],
             change: Callable[[list[Any]], list[dict[str, Any]]]) -> None:
    update = sa.update(table).where(table.c.id == sa.bindparam("id_"))
    for batch in _rows(conn, table, names):
        values = change(batch)
        conn.execute(update, [{"id_": row["id"], **new} for row, new in zip(batch, values,
                                                                            strict=True)])


def _alerts_up(conn: sa.Connection) -> Callable[[list[Any]], list[dict[str, Any]]]:
    def change(batch: list[Any]) -> list[dict[str, Any]]:
        alerts = [[codec.decode_alert(doc) for doc in row["alerts"] or []] for row in batch]
        known = identities.resolve(conn, (a for found in alerts for a in found), IDENTITIES)
        return [{"alert_entries": codec.encode_alert_entries(
            found, [known[codec.alert_identity(a)["digest"]] for a in found], row["at"])}
            for row, found in zip(batch, alerts, strict=True)]
    return change


def _alerts_down(conn: sa.Connection) -> Callable[[list[Any]], list[dict[str, Any]]]:
    def change(batch: list[Any]) -> list[dict[str, Any]]:
        ids = [i for row in batch for i in codec.alert_entry_ids(row["alert_entries"])]
        known = identities.load(conn, ids, IDENTITIES)
        return [{"alerts": [codec.encode_alert(a) for a in codec.decode_alert_entries(
            row["alert_entries"], row["at"], known)]} for row in batch]
    return change


def _slos_up(batch: list[Any]) -> list[dict[str, Any]]:
    return [{"detail": codec.encode_detail(codec.legacy_slo_status(row))} for row in batch]


def _slos_down(batch: list[Any]) -> list[dict[str, Any]]:
    return [codec.legacy_slo_columns(codec.slo_status(row)) for row in batch]


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table("alert_identities", *_identity_columns())
    op.create_index("ux_alert_identities_digest", "alert_identities", ["digest"], unique=True)
    op.add_column("evaluations", sa.Column("alert_entries", sa.LargeBinary))
    op.add_column("slo_results", sa.Column("detail", sa.LargeBinary))
    op.add_column("signal_results", sa.Column("signal_order", sa.String(16)))

    _convert(conn, EVALUATIONS, ("at", "alerts"), _alerts_up(conn))
    _convert(conn, SLO_RESULTS, (*KEPT, *(name for name, _, _ in MOVED)), _slos_up)
    _convert(conn, SIGNAL_RESULTS, ("signals",),
             lambda batch: [{"signal_order": codec.encode_signal_order(row["signals"])}
                            for row in batch])

    if conn.dialect.name == "sqlite":  # a copy of evaluations would cascade deletes
        op.execute("ALTER TABLE evaluations DROP COLUMN alerts")
    else:
        op.drop_column("evaluations", "alerts")
    with op.batch_alter_table("slo_results") as batch:
        for name, _, _ in MOVED:
            batch.drop_column(name)
        batch.alter_column("detail", existing_type=sa.LargeBinary, nullable=False)
    with op.batch_alter_table("signal_results") as batch:
        batch.drop_column("signals")


def downgrade() -> None:
    conn = op.get_bind()
    op.add_column("evaluations", sa.Column("alerts", sa.JSON))
    for name, type_, _ in MOVED:
        op.add_column("slo_results", sa.Column(name, type_))
    op.add_column("signal_results", sa.Column("signals", sa.JSON))

    _convert(conn, EVALUATIONS, ("at", "alert_entries"), _alerts_down(conn))
    _convert(conn, SLO_RESULTS, (*KEPT, "detail"), _slos_down)
    _convert(conn, SIGNAL_RESULTS, ("signal_order",),
             lambda batch: [{"signals": codec.decode_signal_order(row["signal_order"])}
                            for row in batch])

    if conn.dialect.name == "sqlite":
        op.execute("ALTER TABLE evaluations DROP COLUMN alert_entries")
    else:
        op.alter_column("evaluations", "alerts", existing_type=sa.JSON, nullable=False)
        op.drop_column("evaluations", "alert_entries")
    with op.batch_alter_table("slo_results") as batch:
        batch.drop_column("detail")
        for name, type_, nullable in MOVED:
            if not nullable:
                batch.alter_column(name, existing_type=type_, nullable=False)
    with op.batch_alter_table("signal_results") as batch:
        batch.drop_column("signal_order")
        batch.alter_column("signals", existing_type=sa.JSON, nullable=False)
    op.drop_index("ux_alert_identities_digest", "alert_identities")
    op.drop_table("alert_identities")
