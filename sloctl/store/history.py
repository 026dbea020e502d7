"""Time-series reads of the store across its tiers, downsampled in SQL.

One history per SLO (or service), oldest first: daily roll-ups, then hourly ones, then the raw
evaluations, each where it exists. Where an hour (day) has a roll-up, the roll-up is used and any
raw (hourly) rows left inside it are not (a prune deletes them after rolling them up). Columns:
``at``, the charted values, their ``_min`` and ``_max``, and ``tier`` ("raw", "hourly",
"daily"). A raw point is one evaluation (its min and max are its value); a roll-up point is at
its last evaluation, with that evaluation's values and the least and greatest over its hour
(day).

The range ``[since, until]`` is cut into at most ``max_points`` equal time buckets; each bucket
keeps the values of its **last** row (latest ``at``, then latest id) and the least and greatest
over its rows, so the last point equals the latest value and no spike disappears.
``max_points=None`` returns every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, func, literal, select

from sloctl.store.codec import epoch
from sloctl.store.rollups import SIGNAL, SLO, Kind, Window
from sloctl.store.schema import DAY, HOUR, SLO_CHART_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

SLO_HISTORY_COLUMNS = SLO_CHART_COLUMNS
TIERS = {HOUR: "hourly", DAY: "daily"}


def bucket_seconds(since: datetime, until: datetime, max_points: int) -> int:
    """Bucket width such that ``[since, until]`` spans at most ``max_points`` buckets."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    span = max(0, epoch(until) - epoch(since))
    return span // max_points + 1


def frame_columns(values: Sequence[str]) -> list[str]:
    """``at``, the values, their minima, their maxima, ``tier``."""
    return ["at", *values, *(f"{v}_min" for v in values), *(f"{v}_max" for v in values), "tier"]


def _rows(conn: Connection, kind: Kind, key: str, resolution: int | None, since: datetime,
          until: datetime | None, lower: int | None, upper: int | None,
          width: int | None) -> list[Any]:
    """Rows of one tier (``resolution`` None: raw) in frame order, one per bucket if ``width``.

    Raw rows: ``at`` from ``lower`` on (Unix seconds); roll-ups: buckets in [lower, upper).
    """
    rolled = resolution is not None
    table = kind.rollups if rolled else kind.raw
    at = table.c.at
    where: list[ColumnElement[bool]] = [table.c[kind.key] == key, at >= since]
    if until is not None:
        where.append(at <= until)
    if rolled:
        where.append(table.c.resolution == resolution)
        where.append(table.c.bucket >= (lower if lower is not None else epoch(since) - DAY))
        if upper is not None:
            where.append(table.c.bucket < upper)
        if until is not None:
            where.append(table.c.bucket <= epoch(until))
    elif lower is not None:
        where.append(at >= datetime.fromtimestamp(lower, UTC))
    low = [f"{v}_min" if rolled else v for v in kind.values]
    high = [f"{v}_max" if rolled else v for v in kind.values]
    tier = literal(TIERS[resolution] if resolution is not None else "raw")
    tiebreak = table.c.bucket if rolled else table.c.id
    if width is None:
        query = (select(at, *(table.c[n] for n in (*kind.values, *low, *high)),
                        tier.label("tier")).where(*where).order_by(at, tiebreak))
        return list(conn.execute(query).all())
    # The bucket is computed once, in a subquery: every window is then the same one, which
    # SQLite sorts once instead of once per function.
    rows = select(
        at,
        ((table.c.epoch - epoch(since)) // width).label("slot"),
        tiebreak.label("tiebreak"),
        *(table.c[n] for n in dict.fromkeys((*kind.values, *low, *high))),
    ).where(*where).subquery()
    c = rows.c
    window = Window((c.slot,), (c.at.desc(), c.tiebreak.desc()))
    ranked = select(
        c.at,
        *(c[v] for v in kind.values),
        *(window.over(func.min(c[n])).label(f"{v}_min") for v, n in zip(kind.values, low,
                                                                           strict=True)),
        *(window.over(func.max(c[n])).label(f"{v}_max") for v, n in zip(kind.values, high,
                                                                           strict=True)),
        window.over(func.row_number()).label("rank_in_bucket"),
    ).subquery()
    names = frame_columns(kind.values)[:-1]
    query = (select(*(ranked.c[n] for n in names), tier.label("tier"))
             .where(ranked.c.rank_in_bucket == 1).order_by(ranked.c.at))
    return list(conn.execute(query).all())


def _end(conn: Connection, kind: Kind, key: str, resolution: int) -> int | None:
    """Where the roll-ups of ``resolution`` end for ``key`` (Unix seconds), if any."""
    t = kind.rollups
    last = conn.scalar(select(func.max(t.c.bucket)).where(t.c[kind.key] == key,
                                                          t.c.resolution == resolution))
    return None if last is None else int(last) + resolution


def _latest(conn: Connection, kind: Kind, key: str, since: datetime) -> datetime | None:
    found: list[datetime] = []
    for table in (kind.raw, kind.rollups):
        at = conn.scalar(select(func.max(table.c.at)).where(table.c[kind.key] == key,
                                                            table.c.at >= since))
        if at is not None:
            found.append(at)
    return max(found) if found else None


def read(conn: Connection, kind: Kind, key: str, since: datetime, until: datetime | None,
         max_points: int | None) -> pd.DataFrame:
    """The history of ``key`` across tiers (see the module docstring), oldest first."""
    daily_end = _end(conn, kind, key, DAY)
    hourly_end = _end(conn, kind, key, HOUR)
    raw_from = max((e for e in (daily_end, hourly_end) if e is not None), default=None)
    width = None
    if max_points is not None:
        upper = until if until is not None else _latest(conn, kind, key, since)
        if upper is None:
            return _frame([], kind.values)
        width = bucket_seconds(since, upper, max_points)
    rows: list[Any] = []
    if daily_end is not None:
        rows += _rows(conn, kind, key, DAY, since, until, None, daily_end, width)
    if hourly_end is not None and hourly_end > (daily_end or 0):
        rows += _rows(conn, kind, key, HOUR, since, until, daily_end, hourly_end, width)
    rows += _rows(conn, kind, key, None, since, until, raw_from, None, width)
    frame = _frame(rows, kind.values)
    return frame if width is None else _merge_buckets(frame, kind.values, since, width)


def _frame(rows: Sequence[object], values: Sequence[str]) -> pd.DataFrame:
    import pandas as pd  # here, not at module level: the CLI rarely needs it

    columns = frame_columns(values)
    frame = pd.DataFrame.from_records(rows, columns=columns)  # type: ignore[arg-type]
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["tier"] = frame["tier"].astype(object)
    return frame.astype(dict.fromkeys(columns[1:-1], "float64"))


def _merge_buckets(frame: pd.DataFrame, values: Sequence[str], since: datetime,
                   width: int) -> pd.DataFrame:
    """One row per bucket where two tiers meet inside one: the values of its last row, the
    least and greatest of its rows (the frame is in time order)."""
    seconds = frame["at"].dt.as_unit("s").astype("int64")  # whole seconds (after 1970)
    buckets = ((seconds - epoch(since)) // width).to_numpy()
    if len(set(buckets)) == len(buckets):
        return frame
    grouped = frame.groupby(buckets, sort=True)
    merged = frame.loc[grouped.tail(1).index].reset_index(drop=True)
    for v in values:
        merged[f"{v}_min"] = grouped[f"{v}_min"].min().to_numpy()
        merged[f"{v}_max"] = grouped[f"{v}_max"].max().to_numpy()
    return merged


def slo_history(
    conn: Connection,
    slo_id: str,
    since: datetime,
    until: datetime | None = None,
    max_points: int | None = 500,
) -> pd.DataFrame:
    """Columns ``frame_columns(SLO_HISTORY_COLUMNS)`` (NaN where unknown), oldest first."""
    return read(conn, SLO, slo_id, since, until, max_points)


def signal_history(
    conn: Connection,
    service: str,
    since: datetime,
    until: datetime | None = None,
    max_points: int | None = 500,
) -> pd.DataFrame:
    """Columns ``frame_columns(SIGNAL_COLUMNS)`` (NaN where unknown), oldest first."""
    return read(conn, SIGNAL, service, since, until, max_points)
