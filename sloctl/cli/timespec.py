"""The one time grammar of the CLI: ``--at``, ``--since`` and ``--until`` of every command.

Accepted forms (``FORMS``), all turned into an aware UTC ``datetime``:

=================================  ==============================================================
``now``                            the current instant
``2h``, ``-2h``, ``1d12h``, ``30d``  that long ago (Prometheus units w d h m s, largest first;
                                   the minus sign is optional). In ``--since`` it counts back
                                   from ``--until``/``--at`` when one is given, else from now
``+2h``                            that long from now (e.g. a silence's ``--until``)
``2026-11-20``                     midnight starting that day
``2026-11-20T14:00[:00[.123]]``    ISO 8601 date-time; a space may replace the ``T``
``...Z``, ``...+01:00``            with an offset: exactly that instant
``1795000000``, ``1795000000.5``   unix seconds (at least 10 digits: a bare ``300`` is refused,
                                   since it is most likely a duration without its unit)
=================================  ==============================================================

A date or date-time without an offset is in the configured time zone (settings ``timezone``,
default UTC); the help of every option says so. ``TimeSpecError`` names the option, the text and
every accepted form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated

import typer

from sloctl.errors import SloctlError
from sloctl.spec.durations import DURATION_HELP, parse_duration

FORMS = (
    "now; a duration ago such as 2h, -2h, 30d or 1d12h (units w d h m s); +2h for 2 hours from "
    "now; an ISO 8601 date or date-time such as 2026-11-20, 2026-11-20T14:00 (in the settings' "
    "timezone, default UTC) or 2026-11-20T14:00:00Z / +01:00 (that offset); or unix seconds "
    "such as 1795000000"
)
_RELATIVE = re.compile(r"([+-]?)\s*(\d+[wdhms](?:\d+[wdhms])*)")
_UNIX = re.compile(r"\d+(?:\.\d+)?")
_MIN_UNIX = 1_000_000_000  # 2001-09-09: smaller plain numbers are durations missing a unit
TIME_HELP = (
    "now; 2h or -2h (ago); +2h (from now); 2026-11-20 or 2026-11-20T14:00 (settings timezone, "
    "default UTC); 2026-11-20T14:00Z or +01:00; unix seconds"
)

AT_HELP = f"As of this instant: {TIME_HELP}."
SINCE_HELP = f"Start of the range: {TIME_HELP}; a duration counts back from --until."
UNTIL_HELP = f"End of the range (default now): {TIME_HELP}."

AtOption = Annotated[str | None, typer.Option("--at", help=AT_HELP, show_default=False)]
UntilOption = Annotated[str | None, typer.Option("--until", help=UNTIL_HELP, show_default=False)]
SinceOption = Annotated[str | None, typer.Option("--since", help=SINCE_HELP, show_default=False)]


class TimeSpecError(SloctlError):
    """A time option could not be read; the message lists every accepted form."""

    def __init__(self, option: str, text: str, why: str, accepted: str = FORMS) -> None:
        self.option = option
        self.text = text
        super().__init__(f"{option} {text!r}: {why}. Accepted: {accepted}")


@dataclass(frozen=True)
class TimeRange:
    """``[since, until]``, aware UTC; ``label`` reads "last 1h", "1h before <until>" or
    "<since> to <until>"."""

    since: datetime
    until: datetime
    label: str = ""

    @property
    def seconds(self) -> float:
        return (self.until - self.since).total_seconds()


def parse_time(
    text: str,
    *,
    now: datetime,
    tz: tzinfo = UTC,
    option: str = "time",
    anchor: datetime | None = None,
) -> datetime:
    """The instant ``text`` names (see the module docstring), in UTC.

    ``now`` anchors ``now`` and ``+2h``; ``anchor`` (default ``now``) anchors ``2h``/``-2h``
    ("that long before the anchor"). ``tz`` is the zone of dates and date-times without offset.
    """
    value = text.strip()
    if not value:
        raise TimeSpecError(option, text, "empty")
    if value.lower() == "now":
        return now.astimezone(UTC)
    relative = _RELATIVE.fullmatch(value)
    if relative is not None:
        try:
            seconds = parse_duration(relative.group(2), allow_zero=True)
        except ValueError:
            raise TimeSpecError(option, text, "units must come largest first (1d12h)") from None
        if relative.group(1) == "+":
            return (now + timedelta(seconds=seconds)).astimezone(UTC)
        return ((anchor or now) - timedelta(seconds=seconds)).astimezone(UTC)
    if _UNIX.fullmatch(value):
        number = float(value)
        if number < _MIN_UNIX:
            raise TimeSpecError(
                option, text, "a plain number is unix seconds and this one is before 2001; "
                f"for a duration add its unit ({value}s, or e.g. 5m)"
            )
        return datetime.fromtimestamp(number, UTC)
    return _iso(value, tz, option, text)


def _iso(value: str, tz: tzinfo, option: str, text: str) -> datetime:
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            at = datetime(day.year, day.month, day.day)
        else:
            at = datetime.fromisoformat(value)
    except ValueError:
        raise TimeSpecError(option, text, "not a time sloctl reads") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    return at.astimezone(UTC)


def parse_range(
    since: str | None,
    until: str | None,
    *,
    now: datetime,
    tz: tzinfo = UTC,
    default_since: str,
    until_option: str = "--until",
) -> TimeRange:
    """``--since``/``--until`` (or ``--at``, named by ``until_option``) as one range.

    A relative ``--since`` counts back from the range's end. Refuses an empty or inverted range
    and an end in the future.
    """
    end = now if until is None else parse_time(until, now=now, tz=tz, option=until_option)
    start = parse_time(since or default_since, now=now, tz=tz, option="--since", anchor=end)
    if end > now + timedelta(seconds=1):
        raise TimeSpecError(until_option, until or "", "is in the future; give a past time")
    if start >= end:
        raise TimeSpecError(
            "--since", since or default_since,
            f"is not before the end of the range ({end.strftime('%Y-%m-%d %H:%M:%SZ')})",
        )
    text = (since or default_since).strip()
    if not _RELATIVE.fullmatch(text) or text.startswith("+"):
        label = f"{start:%Y-%m-%d %H:%M:%SZ} to {end:%Y-%m-%d %H:%M:%SZ}"
    elif until is None:
        label = f"last {text.lstrip('-')}"
    else:
        label = f"{text.lstrip('-')} before {end:%Y-%m-%d %H:%M:%SZ}"
    return TimeRange(start, end, label)


def parse_at(text: str | None, *, now: datetime, tz: tzinfo = UTC) -> datetime | None:
    """``--at`` (None when not given); refuses a future instant."""
    if text is None:
        return None
    at = parse_time(text, now=now, tz=tz, option="--at")
    if at > now + timedelta(seconds=1):
        raise TimeSpecError("--at", text, "is in the future; give a past time")
    return at


def parse_max_age(text: str | None, default_seconds: float) -> float | None:
    """``--max-age``: a duration (``0`` turns the check off -> None); ``default_seconds`` when
    not given."""
    if text is None:
        return default_seconds
    try:
        seconds = parse_duration(text, allow_zero=True)
    except ValueError:
        raise TimeSpecError(
            "--max-age", text, "not a duration", f"{DURATION_HELP}; 0 turns the check off"
        ) from None
    return None if seconds == 0 else float(seconds)
