"""How old the data is: the age of the last evaluation, stale past 3 evaluation intervals.

No Streamlit here. The same rule as the CLI's ``--max-age`` default and the
``SloctlEvaluationStale`` alert: older than 3 x ``interval_seconds`` is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sloctl.core.alert_rules import STALE_INTERVALS
from sloctl.core.humanize import duration_text


def age_text(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``, ``2.0 d`` (negative ages, clock skew, read as 0 s)."""
    return duration_text(seconds)


@dataclass(frozen=True)
class Freshness:
    """``line`` for every page; ``warning`` when the data is stale (None otherwise)."""

    line: str
    stale: bool
    warning: str | None = None


def freshness(at: datetime | None, now: datetime, interval_seconds: int,
              tz: tzinfo) -> Freshness:
    """The data's age at ``now`` given the last evaluation's instant ``at`` (None: none yet)."""
    if at is None:
        return Freshness("no evaluation stored yet", True)
    age = (now - at).total_seconds()
    when = at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    line = f"last evaluation {when}, {age_text(age)} ago"
    limit = STALE_INTERVALS * interval_seconds
    if age <= limit:
        return Freshness(line, False)
    return Freshness(line, True, (
        f"Stale data: the last evaluation is {age_text(age)} old, more than "
        f"{STALE_INTERVALS} evaluation intervals ({age_text(limit)}). Is `sloctl serve` running? "
        "`sloctl eval` stores one evaluation now."))
