"""PostgreSQL: the raw history indexes keyed by (SLO or service, at) only, 3 to 4 times smaller.

``ix_slo_results_history`` and ``ix_signal_results_history`` carried ``epoch`` and every charted
column besides their key, so that a history read is answered from the index alone. On SQLite it
is: an index entry carries the rowid, the read's tie-break. On PostgreSQL it never was: the read
needs ``id`` too, so every read fetched the table's rows after a bitmap scan of the index, and
the charted columns only made the index big. Worse, rows of 200 SLOs arrive interleaved, so each
SLO's newest leaf page splits half and half and its pages stay about 55 % full: 42 KB of index
per evaluation of 100 services x 2 SLOs for SLOs, 15 KB for signals (60 and 21 MB a raw day;
``bench/store_growth.py``). Keyed by (slo_id, at) and (service, at) they are 13.5 and 3.5 KB,
and the reads, the roll-ups and the prunes use them as before (same plans: index scan, then the
rows). SQLite keeps its covering indexes: nothing changes there.

Nothing is rewritten but the two indexes (rebuilt in this revision's transaction).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The charted columns as of revision 0009 (frozen: later changes of schema.py do not apply).
SLO_COLUMNS = ("sli", "budget_remaining", "budget_remaining_minutes", "burn_rate_1h",
               "burn_rate_6h", "burn_rate_1d", "burn_rate_3d", "burn_rate_period")
SIGNAL_COLUMNS = ("traffic", "error_ratio", "latency_p50", "latency_p95", "latency_p99",
                  "saturation")
# (index, table, key, covered columns)
INDEXES = (
    ("ix_slo_results_history", "slo_results", "slo_id", SLO_COLUMNS),
    ("ix_signal_results_history", "signal_results", "service", SIGNAL_COLUMNS),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    for name, table, key, _covered in INDEXES:
        op.drop_index(name, table)
        op.create_index(name, table, [key, "at"])


def downgrade() -> None:
    if not _postgresql():
        return
    for name, table, key, covered in INDEXES:
        op.drop_index(name, table)
        op.create_index(name, table, [key, "at", "epoch", *covered])
