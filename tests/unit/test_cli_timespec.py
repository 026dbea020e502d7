"""The one time grammar of the CLI (``sloctl.cli.timespec``): every accepted form, the zone of
naive times, ranges, and the errors that list what is accepted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sloctl.cli.timespec import (
    TimeSpecError,
    parse_at,
    parse_max_age,
    parse_range,
    parse_time,
)
from sloctl.errors import EXIT_USAGE

NOW = datetime(2026, 11, 20, 14, 30, 15, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")  # UTC+1 in November


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("NOW", NOW),
        ("2h", NOW - timedelta(hours=2)),
        ("-2h", NOW - timedelta(hours=2)),
        ("30d", NOW - timedelta(days=30)),
        ("1d12h", NOW - timedelta(days=1, hours=12)),
        ("2w", NOW - timedelta(weeks=2)),
        ("90s", NOW - timedelta(seconds=90)),
        ("+2h", NOW + timedelta(hours=2)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-20T14:00", datetime(2026, 11, 20, 14, 0, tzinfo=UTC)),
        ("2026-11-20 14:00:05", datetime(2026, 11, 20, 14, 0, 5, tzinfo=UTC)),
        ("2026-11-20T14:00:00.250Z", datetime(2026, 11, 20, 14, 0, 0, 250_000, tzinfo=UTC)),
        ("2026-11-20T15:00:00+01:00", datetime(2026, 11, 20, 14, 0, tzinfo=UTC)),
        ("1795000000", datetime(2026, 11, 18, 11, 6, 40, tzinfo=UTC)),
        ("1795000000.5", datetime(2026, 11, 18, 11, 6, 40, 500_000, tzinfo=UTC)),
    ],
)
def test_every_form_in_utc(text: str, expected: datetime) -> None:
    at = parse_time(text, now=NOW)
    assert at == expected and at.tzinfo is UTC


def test_naive_dates_and_times_are_in_the_configured_zone_offsets_are_kept() -> None:
    assert parse_time("2026-11-01", now=NOW, tz=PARIS) == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert parse_time("2026-11-20T14:00", now=NOW, tz=PARIS) == datetime(
        2026, 11, 20, 13, tzinfo=UTC)
    assert parse_time("2026-11-20T14:00Z", now=NOW, tz=PARIS) == datetime(
        2026, 11, 20, 14, tzinfo=UTC)
    assert parse_time("1795000000", now=NOW, tz=PARIS) == datetime(
        2026, 11, 18, 11, 6, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("yesterday", "not a time sloctl reads"),
        ("", "empty"),
        ("12h1d", "units must come largest first (1d12h)"),
        ("300", "a plain number is unix seconds and this one is before 2001; for a duration "
                "add its unit (300s, or e.g. 5m)"),
        ("2026-13-01", "not a time sloctl reads"),
    ],
)
def test_errors_name_the_option_and_every_accepted_form(text: str, why: str) -> None:
    with pytest.raises(TimeSpecError) as info:
        parse_time(text, now=NOW, option="--since")
    message = str(info.value)
    assert message.startswith(f"--since {text!r}: {why}. Accepted: now; a duration ago")
    for form in ("2h", "+2h", "2026-11-20T14:00", "+01:00", "unix seconds", "default UTC"):
        assert form in message
    assert info.value.exit_code == EXIT_USAGE


def test_a_relative_since_counts_back_from_until() -> None:
    span = parse_range("30d", "2026-11-01", now=NOW, default_since="7d")
    assert span.since == datetime(2026, 10, 2, tzinfo=UTC)
    assert span.until == datetime(2026, 11, 1, tzinfo=UTC)
    assert span.label == "30d before 2026-11-01 00:00:00Z"
    absolute = parse_range("2026-10-02", "2026-11-01", now=NOW, default_since="7d")
    assert absolute.label == "2026-10-02 00:00:00Z to 2026-11-01 00:00:00Z"
    default = parse_range(None, None, now=NOW, default_since="7d")
    assert (default.since, default.until, default.label) == (
        NOW - timedelta(days=7), NOW, "last 7d")
    assert parse_range("-1h", "-30m", now=NOW, default_since="7d").since == NOW - timedelta(
        minutes=90)
    assert parse_range("2026-11-20T10:00", None, now=NOW, default_since="1d").seconds == (
        4 * 3600 + 30 * 60 + 15)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-11-21", None, "--since '2026-11-21': is not before the end of the range "
                             "(2026-11-20 14:30:15Z)"),
        ("1h", "+1h", "--until '+1h': is in the future; give a past time"),
        ("0s", None, "--since '0s': is not before the end of the range"),
    ],
)
def test_empty_inverted_and_future_ranges_are_refused(
    since: str, until: str | None, message: str
) -> None:
    with pytest.raises(TimeSpecError, match="^" + re.escape(message)):
        parse_range(since, until, now=NOW, default_since="1d")


def test_at_is_optional_and_never_in_the_future() -> None:
    assert parse_at(None, now=NOW) is None
    assert parse_at("-90m", now=NOW) == NOW - timedelta(minutes=90)
    with pytest.raises(TimeSpecError, match=re.escape("--at '+5m': is in the future")):
        parse_at("+5m", now=NOW)


def test_max_age_defaults_to_the_given_limit_and_zero_turns_it_off() -> None:
    assert parse_max_age(None, 180.0) == 180.0
    assert parse_max_age("10m", 180.0) == 600.0
    assert parse_max_age("0", 180.0) is None
    with pytest.raises(TimeSpecError, match=re.escape(
            "--max-age 'soon': not a duration. Accepted: use a whole number of seconds")):
        parse_max_age("soon", 180.0)
