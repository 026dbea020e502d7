"""Time-series reads of the store, downsampled in SQL.

The range ``[since, until]`` is cut into at most ``max_points`` equal time buckets; each bucket
keeps its **last** row (latest ``at``, then latest id), so every point is a real stored
evaluation and the last point equals the latest value. ``max_points=None`` returns every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ColumnElement, Connection, Table, and_, func, select

from sloctl.store.codec import epoch
from sloctl.store.schema import SIGNAL_COLUMNS, SLO_CHART_COLUMNS, signal_results, slo_results

if TYPE_CHECKING:
    import pandas as pd

SLO_HISTORY_COLUMNS = SLO_CHART_COLUMNS


def bucket_seconds(since: datetime, until: datetime, max_points: int) -> int:
    """Bucket width such that ``[since, until]`` spans at most ``max_points`` buckets."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    span = max(0, epoch(until) - epoch(since))
    return span // max_points + 1


def _history(
    conn: Connection,
    table: Table,
    key: ColumnElement[bool],
    value_columns: Sequence[str],
    since: datetime,
    until: datetime | None,
    max_points: int | None,
) -> pd.DataFrame:
    at: Column[datetime] = table.c.at
    where = and_(key, at >= since) if until is None else and_(key, at >= since, at <= until)
    values = [table.c[name] for name in value_columns]
    if max_points is None:
        query = select(at, *values).where(where).order_by(at, table.c.id)
    else:
        upper = until if until is not None else conn.scalar(select(func.max(at)).where(where))
        if upper is None:  # no rows
            return _frame([], value_columns)
        width = bucket_seconds(since, upper, max_points)
        bucket = (table.c.epoch - epoch(since)) // width
        rank = func.row_number().over(partition_by=bucket, order_by=(at.desc(), table.c.id.desc()))
        ranked = select(at, *values, rank.label("rank_in_bucket")).where(where).subquery()
        query = (
            select(*(ranked.c[name] for name in ("at", *value_columns)))
            .where(ranked.c.rank_in_bucket == 1)
            .order_by(ranked.c.at)
        )
    return _frame(conn.execute(query).all(), value_columns)


def _frame(rows: Sequence[object], value_columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd  # here, not at module level: the CLI never needs it

    frame = pd.DataFrame.from_records(rows, columns=["at", *value_columns])  # type: ignore[arg-type]
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame.astype(dict.fromkeys(value_columns, "float64"))


def slo_history(
    conn: Connection,
    slo_id: str,
    since: datetime,
    until: datetime | None = None,
    max_points: int | None = 500,
) -> pd.DataFrame:
    """Columns ``at`` + SLO_HISTORY_COLUMNS (NaN where unknown), oldest first."""
    key = slo_results.c.slo_id == slo_id
    return _history(conn, slo_results, key, SLO_HISTORY_COLUMNS, since, until, max_points)


def signal_history(
    conn: Connection,
    service: str,
    since: datetime,
    until: datetime | None = None,
    max_points: int | None = 500,
) -> pd.DataFrame:
    """Columns ``at`` + one per Signal value (NaN where unknown), oldest first."""
    key = signal_results.c.service == service
    return _history(conn, signal_results, key, SIGNAL_COLUMNS, since, until, max_points)
