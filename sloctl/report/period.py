"""Report periods: an ISO week in the configured time zone (the default), or any range.

Pure: the caller passes ``now`` and the zone. A week runs from Monday 00:00 to the next Monday
00:00 local time, so across a DST change it is 167 or 169 hours long.

    week = iso_week("2026-W49", ZoneInfo("Europe/Berlin"))
    last = last_complete_week(now, tz)
    week.previous(3)          # the period 3 weeks before, same zone
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """A week or range that does not exist or cannot be read."""


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC, named by ``key`` (``2026-W49`` or ``<start>..<end>``)."""

    key: str
    start: datetime
    end: datetime
    timezone: str  # the IANA zone the period was cut in (weeks start Monday 00:00 there)

    @property
    def is_week(self) -> bool:
        return WEEK_KEY.match(self.key) is not None

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def previous(self, steps: int = 1, tz: tzinfo | None = None) -> Period:
        """The period ``steps`` before this one: the ISO week before, or a range of the same
        length ending where this one starts."""
        if self.is_week:
            if tz is None:
                raise PeriodError("a week's previous week needs its time zone")
            monday = _week_monday(self.key) - timedelta(weeks=steps)
            return _week_of(monday, tz, self.timezone)
        length = self.end - self.start
        start = self.start - steps * length
        return range_period(start, start + length, self.timezone)

    def label(self, tz: tzinfo) -> str:
        """``2026-W49 (Mon 30 Nov - Sun 6 Dec 2026)`` for a week, else the local range."""
        first = self.start.astimezone(tz)
        last = (self.end - timedelta(microseconds=1)).astimezone(tz)
        days = f"{first:%a %d %b} - {last:%a %d %b %Y}"
        return f"{self.key} ({days})" if self.is_week else days


def _week_monday(key: str) -> date:
    match = WEEK_KEY.match(key)
    if match is None:
        raise PeriodError(f"invalid week {key!r}; write an ISO week such as 2026-W49")
    year, week = int(match[1]), int(match[2])
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError(f"week {key!r} does not exist: {year} has weeks 01 to "
                          f"{date(year, 12, 28).isocalendar()[1]:02d}") from None


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _week_of(monday: date, tz: tzinfo, zone_name: str) -> Period:
    year, week, _ = monday.isocalendar()
    return Period(f"{year}-W{week:02d}", _midnight(monday, tz),
                  _midnight(monday + timedelta(weeks=1), tz), zone_name)


def iso_week(key: str, tz: tzinfo, zone_name: str | None = None) -> Period:
    """The ISO week ``key`` (``2026-W49``) in ``tz``: Monday 00:00 to the next Monday 00:00."""
    return _week_of(_week_monday(key), tz, zone_name or str(tz))


def week_containing(at: datetime, tz: tzinfo, zone_name: str | None = None) -> Period:
    """The ISO week (in ``tz``) that ``at`` falls in."""
    local = at.astimezone(tz).date()
    return _week_of(local - timedelta(days=local.weekday()), tz, zone_name or str(tz))


def last_complete_week(now: datetime, tz: tzinfo, zone_name: str | None = None) -> Period:
    """The latest ISO week that ended at or before ``now``."""
    return week_containing(now, tz, zone_name).previous(1, tz)


def range_period(start: datetime, end: datetime, zone_name: str = "UTC") -> Period:
    """Any ``[start, end)`` (aware datetimes); PeriodError unless start < end."""
    if start.tzinfo is None or end.tzinfo is None:
        raise PeriodError("a report range needs times with a zone, e.g. 2026-12-01T00:00:00Z")
    if end <= start:
        raise PeriodError(f"a report range must end after it starts: {start} .. {end}")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return Period(f"{start:%Y-%m-%dT%H:%MZ}..{end:%Y-%m-%dT%H:%MZ}", start, end, zone_name)


def parse_period(key: str, tz: tzinfo, zone_name: str | None = None) -> Period:
    """A week key, or a stored range key ``<start>..<end>`` (as ``range_period`` names it)."""
    if WEEK_KEY.match(key):
        return iso_week(key, tz, zone_name)
    first, sep, last = key.partition("..")
    try:
        start = datetime.fromisoformat(first.replace("Z", "+00:00"))
        end = datetime.fromisoformat(last.replace("Z", "+00:00"))
    except ValueError:
        start = end = None  # type: ignore[assignment]
    if not sep or start is None or end is None:
        raise PeriodError(f"invalid period {key!r}; write a week such as 2026-W49 or a range "
                          "2026-12-01T00:00Z..2026-12-08T00:00Z")
    return range_period(start, end, zone_name or str(tz))


def trailing(period: Period, count: int, tz: tzinfo) -> tuple[Period, ...]:
    """The ``count`` periods ending with ``period``, oldest first."""
    return tuple(period.previous(k, tz) if k else period for k in range(count - 1, -1, -1))
