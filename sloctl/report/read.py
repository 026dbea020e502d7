"""Reading stored report scorecards: what the app needs (read-only, no measuring).

    periods(reader)                                 # [(key, start, end, measured_at)], newest first
    load_scorecard(reader, "2026-W49", "team/payments")   # the stored PeriodScorecard, or None
    rebuild_scorecard(reader, "2026-W49", scope, tz)      # the same, built again from the inputs
    send_records(reader, "2026-W49")                      # the emails of the period and their state
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sloctl.report.build import build_scorecard
from sloctl.report.codec import decode
from sloctl.report.inputs import ReportInputs
from sloctl.report.scorecard import PeriodScorecard, Scope
from sloctl.store import StoreReader
from sloctl.store.reports import SendRecord


def periods(reader: StoreReader) -> list[tuple[str, datetime, datetime, datetime]]:
    """Every measured period: (key, start, end, measured_at), newest first."""
    return reader.reports.periods()


def scopes(reader: StoreReader, period: str) -> list[Scope]:
    """The scopes with a stored scorecard for ``period``."""
    return [Scope.parse(key) for key in reader.reports.scopes(period)]


def load_scorecard(reader: StoreReader, period: str, scope: Scope | str) -> PeriodScorecard | None:
    """The stored scorecard of (period, scope), exactly as the email showed it."""
    key = scope.key if isinstance(scope, Scope) else scope
    body = reader.reports.scorecard(period, key)
    return None if body is None else decode(PeriodScorecard, body)


def load_inputs(reader: StoreReader, period: str) -> ReportInputs | None:
    body = reader.reports.inputs(period)
    return None if body is None else decode(ReportInputs, body)


def rebuild_scorecard(reader: StoreReader, period: str, scope: Scope,
                      tz: tzinfo) -> PeriodScorecard | None:
    """The scorecard built again from the period's stored inputs (equal to the stored one)."""
    inputs = load_inputs(reader, period)
    return None if inputs is None else build_scorecard(inputs, scope, tz)


def send_records(reader: StoreReader, period: str | None = None) -> list[SendRecord]:
    """The period's emails (or all), oldest first, with their state and last error."""
    return reader.reports.sends(period)
