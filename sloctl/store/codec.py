"""Conversions between ``sloctl.core`` values and store rows (plain dicts).

JSON documents omit fields at their default (``reason: None``, ``interpolated: False``, empty
labels) to keep rows small; windows and decisions are positional arrays (``WINDOW_FIELDS``,
``DECISION_FIELDS``) for the same reason. Non-finite floats are written as the strings "inf",
"-inf", "nan" because JSON (and PostgreSQL's json type) has no literal for them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.burn import BurnRateDecision, BurnRateRule, Severity
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal, SignalValue
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import ALERT_WINDOWS, WindowResult
from sloctl.store.schema import BURN_RATE_COLUMNS, SIGNAL_COLUMNS

Row = dict[str, Any]
Record = Mapping[Any, Any]  # a stored row (SQLAlchemy RowMapping or dict)


def epoch(at: datetime) -> int:
    """Whole Unix seconds of an aware datetime (floor), the unit of history time buckets."""
    return math.floor(at.timestamp())


def _num(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return str(value)  # "inf", "-inf", "nan"


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _parse_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


# -- windows and decisions (JSON) ---------------------------------------------------------------


# Windows and decisions are stored as positional JSON arrays (one per SLO row and evaluation, so
# field names would double their size); optional trailing fields are left out when at default.
WINDOW_FIELDS = ("window", "sli", "error_ratio", "burn_rate", "total", "bad", "coverage")
DECISION_FIELDS = (
    "severity",
    "long_window",
    "short_window",
    "factor",
    "long_burn",
    "short_burn",
    "firing",
)


def encode_window(w: WindowResult) -> list[Any]:
    """``[window, sli, error_ratio, burn_rate, total, bad, coverage(, interpolated(, reason))]``."""
    doc: list[Any] = [
        w.window,
        _num(w.sli),
        _num(w.error_ratio),
        _num(w.burn_rate),
        _num(w.total),
        _num(w.bad),
        _num(w.coverage),
    ]
    if w.reason is not None:
        doc += [w.interpolated, w.reason]
    elif w.interpolated:
        doc.append(True)
    return doc


def decode_window(doc: Sequence[Any]) -> WindowResult:
    window, sli, error_ratio, burn_rate, total, bad, coverage, *rest = doc
    return WindowResult(
        window=int(window),
        sli=_float(sli),
        error_ratio=_float(error_ratio),
        burn_rate=_float(burn_rate),
        total=_float(total),
        bad=_float(bad),
        coverage=_float(coverage),
        interpolated=bool(rest[0]) if rest else False,
        reason=rest[1] if len(rest) > 1 else None,
    )


def encode_decision(d: BurnRateDecision) -> list[Any]:
    """DECISION_FIELDS in order, then the reason if there is one."""
    rule = d.rule
    doc: list[Any] = [
        rule.severity.value,
        rule.long_window,
        rule.short_window,
        _num(rule.factor),
        _num(d.long_burn),
        _num(d.short_burn),
        d.firing,
    ]
    if d.reason is not None:
        doc.append(d.reason)
    return doc


def decode_decision(doc: Sequence[Any]) -> BurnRateDecision:
    severity, long_window, short_window, factor, long_burn, short_burn, firing, *rest = doc
    rule = BurnRateRule(Severity(severity), int(long_window), int(short_window), float(factor))
    return BurnRateDecision(
        rule=rule,
        long_burn=_float(long_burn),
        short_burn=_float(short_burn),
        firing=firing,
        reason=rest[0] if rest else None,
    )


# -- SLO results ---------------------------------------------------------------------------------


def slo_window(status: SLOStatus) -> WindowResult | None:
    """The result over the SLO window: the last window, unless it is an alert window."""
    for w in status.windows:
        if w.window in (status.period, status.period_elapsed):
            return w
    last = status.windows[-1] if status.windows else None
    return last if last is not None and last.window not in ALERT_WINDOWS else None


def slo_row(status: SLOStatus, evaluation_id: int, position: int) -> Row:
    """One ``slo_results`` row; burn rates of the standard windows are copied to columns."""
    burn = {w.window: w.burn_rate for w in status.windows}
    period = slo_window(status)
    return {
        "evaluation_id": evaluation_id,
        "position": position,
        "at": status.at,
        "epoch": epoch(status.at),
        "slo_id": status.slo_id,
        "service": status.service,
        "name": status.name,
        "objective": status.objective,
        "period": status.period,
        "period_elapsed": status.period_elapsed,
        "sli": status.sli,
        "error_budget": status.error_budget,
        "budget_remaining": status.budget_remaining,
        "budget_total_minutes": status.budget_total_minutes,
        "budget_remaining_minutes": status.budget_remaining_minutes,
        "budget_remaining_events": status.budget_remaining_events,
        **{column: burn.get(seconds) for seconds, column in BURN_RATE_COLUMNS.items()},
        "burn_rate_period": period.burn_rate if period is not None else None,
        "exhaustion_at": status.exhaustion_at,
        "breaching": status.breaching,
        "reason": status.reason,
        "windows": [encode_window(w) for w in status.windows],
        "decisions": [encode_decision(d) for d in status.decisions],
    }


def slo_status(row: Record) -> SLOStatus:
    return SLOStatus(
        slo_id=row["slo_id"],
        service=row["service"],
        name=row["name"],
        objective=row["objective"],
        period=row["period"],
        period_elapsed=row["period_elapsed"],
        at=row["at"],
        sli=row["sli"],
        error_budget=row["error_budget"],
        budget_remaining=row["budget_remaining"],
        budget_total_minutes=row["budget_total_minutes"],
        budget_remaining_minutes=row["budget_remaining_minutes"],
        budget_remaining_events=row["budget_remaining_events"],
        windows=tuple(decode_window(d) for d in row["windows"]),
        decisions=tuple(decode_decision(d) for d in row["decisions"]),
        exhaustion_at=row["exhaustion_at"],
        breaching=row["breaching"],
        reason=row["reason"],
    )


# -- golden signals: one wide row per service --------------------------------------------------


def signal_rows(ev: Evaluation, evaluation_id: int) -> list[Row]:
    """One ``signal_results`` row per service, in the order services first appear.

    A signal that appears twice for one service keeps its last value.
    """
    rows: dict[str, Row] = {}
    for sv in ev.signals:
        row = rows.get(sv.service)
        if row is None:
            row = {
                "evaluation_id": evaluation_id,
                "position": len(rows),
                "at": ev.at,
                "epoch": epoch(ev.at),
                "service": sv.service,
                **dict.fromkeys(SIGNAL_COLUMNS),
                "signals": [],
                "reasons": {},
            }
            rows[sv.service] = row
        name = sv.signal.value
        row[name] = sv.value
        if name not in row["signals"]:
            row["signals"].append(name)
        if sv.reason is not None:
            row["reasons"][name] = sv.reason
        else:
            row["reasons"].pop(name, None)
    return list(rows.values())


def signal_values(rows: Sequence[Record]) -> tuple[SignalValue, ...]:
    """Signals of an evaluation, grouped by service (rows in ``position`` order)."""
    return tuple(
        SignalValue(row["service"], Signal(name), row[name], row["reasons"].get(name))
        for row in rows
        for name in row["signals"]
    )


# -- alerts ---------------------------------------------------------------------------------------


def alert_row(a: AlertStatus) -> Row:
    """Columns of an AlertStatus snapshot (``alert_states`` / ``alert_transitions``)."""
    return {
        "key": a.key,
        "rule": a.rule,
        "service": a.service,
        "slo_id": a.slo_id,
        "severity": a.severity,
        "state": a.state.value,
        "value": a.value,
        "threshold": a.threshold,
        "active_since": a.active_since,
        "fired_at": a.fired_at,
        "resolved_at": a.resolved_at,
        "updated_at": a.updated_at,
        "reason": a.reason,
        "labels": dict(a.labels),
    }


def alert_status(row: Record) -> AlertStatus:
    return AlertStatus(
        key=row["key"],
        rule=row["rule"],
        service=row["service"],
        slo_id=row["slo_id"],
        severity=row["severity"],
        state=AlertState(row["state"]),
        value=row["value"],
        threshold=row["threshold"],
        active_since=row["active_since"],
        fired_at=row["fired_at"],
        resolved_at=row["resolved_at"],
        updated_at=row["updated_at"],
        reason=row["reason"],
        labels=dict(row["labels"]),
    )


_ALERT_TIMES = ("active_since", "fired_at", "resolved_at", "updated_at")


def encode_alert(a: AlertStatus) -> Row:
    """An AlertStatus as a compact JSON document (None fields and empty labels left out)."""
    doc: Row = {}
    for name, value in alert_row(a).items():
        if value is None or (name == "labels" and not value):
            continue
        if name in _ALERT_TIMES:
            value = _time(value)
        elif name in ("value", "threshold"):
            value = _num(value)
        doc[name] = value
    return doc


def decode_alert(doc: Mapping[str, Any]) -> AlertStatus:
    row = dict(doc)
    for name in _ALERT_TIMES:
        row[name] = _parse_time(doc.get(name))
    for name in ("value", "threshold"):
        row[name] = _float(doc.get(name))
    for name in ("slo_id", "reason"):
        row.setdefault(name, None)
    row.setdefault("labels", {})
    return alert_status(row)


# -- evaluations ----------------------------------------------------------------------------------


def evaluation_row(ev: Evaluation) -> Row:
    return {
        "at": ev.at,
        "started_at": ev.started_at,
        "finished_at": ev.finished_at,
        "complete": ev.complete,
        "problems": list(ev.problems),
        "query_count": ev.query_count,
        "alerts": [encode_alert(a) for a in ev.alerts],
    }


def evaluation(
    row: Record,
    slo_rows: Sequence[Record],
    signal_rows: Sequence[Record],
) -> Evaluation:
    return Evaluation(
        at=row["at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        slos=tuple(slo_status(r) for r in slo_rows),
        signals=signal_values(signal_rows),
        alerts=tuple(decode_alert(d) for d in row["alerts"]),
        problems=tuple(row["problems"]),
        query_count=row["query_count"],
    )
