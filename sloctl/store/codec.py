"""Conversions between ``sloctl.core`` values and store rows (plain dicts).

Evaluations are stored compactly and exactly (revision 0009, "compact rows" below): an SLO row
holds its charted values as columns and the rest in ``detail`` (msgpack, values the SLO formulas
give back bit for bit left out); an evaluation's alerts are msgpack entries naming their static
part by a row of ``alert_identities``; a signal row names the signals present by their indexes.

The JSON documents of revisions 0001-0008 (windows and decisions as positional arrays, alerts as
objects; non-finite floats as the strings "inf", "-inf", "nan") are still read and written here
for migration 0009 and its downgrade.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.burn import BurnRateDecision, BurnRateRule, Severity
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal, SignalValue
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import ALERT_WINDOWS, DataState, WindowResult
from sloctl.store.schema import BURN_RATE_COLUMNS

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


# -- compact rows (revision 0009): msgpack, exact ---------------------------------------------
#
# ``slo_results.detail``, ``evaluations.alert_entries`` and ``signal_results.signal_order`` hold
# what readers need beyond the charted columns, compactly and bit-exactly: floats are msgpack
# float64 (integral ones as integers), values that the stored ones give back bit for bit by the
# SLO formulas (checked when writing, frozen here so a later change of ``sloctl.core`` cannot
# change what old rows read back) are left out, and alerts name their static part (key, rule,
# service, SLO, severity, threshold, labels) by a row of ``alert_identities``.

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder()
_PACK = struct.Struct("<d").pack

# Frozen copies (format of revision 0009): the alert windows, the burn-rate tiers (severity,
# long window, short window, share of the budget), DataState and AlertState orders, signal order.
FROZEN_ALERT_WINDOWS = (300, 1800, 3600, 7200, 21600, 86400, 259200)
FROZEN_TIERS = (("page", 3600, 300, 0.02), ("page", 21600, 1800, 0.05),
                ("ticket", 86400, 7200, 0.10), ("ticket", 259200, 21600, 0.10))
DATA_STATES = ("ok", "no_traffic", "no_data", "failed")
ALERT_STATES = ("inactive", "pending", "firing", "resolved")
SIGNAL_ORDER = ("traffic", "error_ratio", "latency_p50", "latency_p95", "latency_p99",
                "saturation")
_MICRO = timedelta(microseconds=1)


def _pack(value: float | None) -> float | int | None:
    """A float as msgpack keeps it exactly: integral values within 2**53 as integers."""
    if value is None:
        return None
    value = float(value)
    if value.is_integer() and abs(value) <= 2**53 and math.copysign(1.0, value) > 0:
        return int(value)
    return value


def _unpack(value: Any) -> float | None:
    return None if value is None else float(value)


def _same(a: float | None, b: float | None) -> bool:
    """Bit for bit (None only equals None)."""
    if a is None or b is None:
        return a is None and b is None
    return _PACK(a) == _PACK(b)


def _micros(at: datetime, base: datetime) -> int:
    return (at - base) // _MICRO


def _from_micros(delta: int, base: datetime) -> datetime:
    return (base + delta * _MICRO).astimezone(UTC)


def _frozen_budget(objective: float) -> float:
    return round(1.0 - objective, 12)


def _frozen_factor(share: float, period: int, long_window: int) -> float:
    return float(round(Decimal(repr(share)) * period / long_window, 12))


def _derived_values(total: float | None, bad: float | None,
                    budget: float) -> tuple[float, float, float] | None:
    """(sli, error_ratio, burn_rate) of a window from its counts, as ``core.slo`` computes them."""
    if total is None or bad is None or not total > 0 or not budget > 0:
        return None
    try:
        ratio = bad / total
        return (total - bad) / total, ratio, ratio / budget
    except (ArithmeticError, ValueError):
        return None


def _derived_reason(windows: Sequence[WindowResult]) -> str | None:
    return "; ".join(dict.fromkeys(w.reason for w in windows if w.sli is None and w.reason)) or None


# window flags
_W_VALUES, _W_INTERPOLATED, _W_REASON = 1, 2, 4  # state index in bits 3-4
# decision flags
_D_RULE, _D_BURNS, _D_REASON = 1, 2, 16  # firing in bits 2-3: 0 None, 1 False, 2 True
# detail flags
(_S_NAME, _S_ELAPSED, _S_BUDGET, _S_MINUTES, _S_EVENTS, _S_EXHAUSTION,
 _S_REASON) = (1, 2, 4, 8, 16, 32, 64)


def _encode_windows(windows: Sequence[WindowResult], budget: float) -> list[Any]:
    lengths = [w.window for w in windows]
    head: Any = (lengths[-1] if len(lengths) == len(FROZEN_ALERT_WINDOWS) + 1
                 and tuple(lengths[:-1]) == FROZEN_ALERT_WINDOWS else lengths)
    out: list[Any] = [head]
    for w in windows:
        flags = DATA_STATES.index(w.state.value) << 3
        doc: list[Any] = [flags, _pack(w.total), _pack(w.bad), _pack(w.coverage)]
        derived = _derived_values(w.total, w.bad, budget)
        if derived is None or not all(map(_same, derived, (w.sli, w.error_ratio, w.burn_rate))):
            doc[0] |= _W_VALUES
            doc += [_pack(w.sli), _pack(w.error_ratio), _pack(w.burn_rate)]
        if w.interpolated:
            doc[0] |= _W_INTERPOLATED
        if w.reason is not None:
            doc[0] |= _W_REASON
            doc.append(w.reason)
        out.append(doc)
    return out


def _decode_windows(doc: Sequence[Any], budget: float) -> tuple[WindowResult, ...]:
    head, *entries = doc
    lengths = [*FROZEN_ALERT_WINDOWS, head] if isinstance(head, int) else list(head)
    windows = []
    for length, (flags, total, bad, coverage, *rest) in zip(lengths, entries, strict=True):
        total, bad = _unpack(total), _unpack(bad)
        if flags & _W_VALUES:
            sli, ratio, burn = (_unpack(v) for v in rest[:3])
            rest = rest[3:]
        else:
            derived = _derived_values(total, bad, budget)
            assert derived is not None, "a stored window without its values"
            sli, ratio, burn = derived
        windows.append(WindowResult(
            window=int(length), sli=sli, error_ratio=ratio, burn_rate=burn, total=total,
            bad=bad, coverage=_unpack(coverage), interpolated=bool(flags & _W_INTERPOLATED),
            reason=rest[0] if flags & _W_REASON else None,
            state=DataState(DATA_STATES[(flags >> 3) & 3])))
    return tuple(windows)


def _burn_of(windows: Sequence[WindowResult], seconds: int) -> float | None:
    found = next((w for w in windows if w.window == seconds), None)
    return None if found is None else found.burn_rate


def _encode_decisions(decisions: Sequence[BurnRateDecision], windows: Sequence[WindowResult],
                      period: int) -> list[Any]:
    out: list[Any] = []
    for i, d in enumerate(decisions):
        rule = d.rule
        firing = 0 if d.firing is None else 2 if d.firing else 1
        doc: list[Any] = [firing << 2]
        frozen = FROZEN_TIERS[i] if i < len(FROZEN_TIERS) else None
        if frozen is None or (rule.severity.value, rule.long_window, rule.short_window) != \
                frozen[:3] or not _same(rule.factor, _frozen_factor(frozen[3], period, frozen[1])):
            doc[0] |= _D_RULE
            doc += [rule.severity.value, rule.long_window, rule.short_window, _pack(rule.factor)]
        if not (_same(d.long_burn, _burn_of(windows, rule.long_window))
                and _same(d.short_burn, _burn_of(windows, rule.short_window))):
            doc[0] |= _D_BURNS
            doc += [_pack(d.long_burn), _pack(d.short_burn)]
        if d.reason is not None:
            doc[0] |= _D_REASON
            doc.append(d.reason)
        out.append(doc)
    return out


def _decode_decisions(docs: Sequence[Any], windows: Sequence[WindowResult],
                      period: int) -> tuple[BurnRateDecision, ...]:
    out = []
    for i, (flags, *rest) in enumerate(docs):
        if flags & _D_RULE:
            severity, long_window, short_window, factor, *rest = rest
            rule = BurnRateRule(Severity(severity), int(long_window), int(short_window),
                                float(factor))
        else:
            severity, long_window, short_window, share = FROZEN_TIERS[i]
            rule = BurnRateRule(Severity(severity), long_window, short_window,
                                _frozen_factor(share, period, long_window))
        if flags & _D_BURNS:
            long_burn, short_burn, *rest = rest
            long_burn, short_burn = _unpack(long_burn), _unpack(short_burn)
        else:
            long_burn = _burn_of(windows, rule.long_window)
            short_burn = _burn_of(windows, rule.short_window)
        firing = (None, False, True)[(flags >> 2) & 3]
        out.append(BurnRateDecision(rule, long_burn, short_burn, firing,
                                    rest[0] if flags & _D_REASON else None))
    return tuple(out)


def encode_detail(status: SLOStatus) -> bytes:
    """``slo_results.detail``: what an SLOStatus holds besides its columns (see above)."""
    budget = status.error_budget
    windows = status.windows
    flags = 0
    optional: list[Any] = []
    if status.slo_id != f"{status.service}/{status.name}":
        flags |= _S_NAME
        optional.append(status.name)
    if status.period_elapsed != status.period:
        flags |= _S_ELAPSED
        optional.append(status.period_elapsed)
    if not _same(budget, _frozen_budget(status.objective)):
        flags |= _S_BUDGET
        optional.append(_pack(budget))
    if not _same(status.budget_total_minutes, budget * status.period / 60):
        flags |= _S_MINUTES
        optional.append(_pack(status.budget_total_minutes))
    last = windows[-1] if windows else None
    events = (None if last is None or last.total is None or last.bad is None or last.sli is None
              else budget * last.total - last.bad)
    if not _same(status.budget_remaining_events, events):
        flags |= _S_EVENTS
        optional.append(_pack(status.budget_remaining_events))
    if status.exhaustion_at is not None:
        flags |= _S_EXHAUSTION
        optional.append(_micros(status.exhaustion_at, status.at))
    if status.reason != _derived_reason(windows):
        flags |= _S_REASON
        optional.append(status.reason)
    doc = [flags, status.period, status.breaching, _encode_windows(windows, budget),
           _encode_decisions(status.decisions, windows, status.period), *optional]
    return _ENCODER.encode(doc)


def decode_detail(row: Record) -> SLOStatus:
    """An SLOStatus from a ``slo_results`` row (its columns and ``detail``)."""
    flags, period, breaching, windows_doc, decisions_doc, *optional = _DECODER.decode(
        row["detail"])
    rest = iter(optional)
    service, slo_id, objective = row["service"], row["slo_id"], row["objective"]
    name = next(rest) if flags & _S_NAME else slo_id.removeprefix(f"{service}/")
    elapsed = int(next(rest)) if flags & _S_ELAPSED else period
    budget = _unpack(next(rest)) if flags & _S_BUDGET else _frozen_budget(objective)
    assert budget is not None
    minutes = _unpack(next(rest)) if flags & _S_MINUTES else budget * period / 60
    assert minutes is not None
    windows = _decode_windows(windows_doc, budget)
    last = windows[-1] if windows else None
    if flags & _S_EVENTS:
        events = _unpack(next(rest))
    else:
        events = (None if last is None or last.total is None or last.bad is None
                  or last.sli is None else budget * last.total - last.bad)
    exhaustion = _from_micros(next(rest), row["at"]) if flags & _S_EXHAUSTION else None
    reason = next(rest) if flags & _S_REASON else _derived_reason(windows)
    return SLOStatus(
        slo_id=slo_id, service=service, name=name, objective=objective, period=int(period),
        period_elapsed=elapsed, at=row["at"], sli=row["sli"], error_budget=budget,
        budget_remaining=row["budget_remaining"], budget_total_minutes=minutes,
        budget_remaining_minutes=row["budget_remaining_minutes"],
        budget_remaining_events=events, windows=windows,
        decisions=_decode_decisions(decisions_doc, windows, int(period)),
        exhaustion_at=exhaustion, breaching=breaching, reason=reason,
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
    """One ``slo_results`` row: the charted values (burn rates of the standard windows copied
    to columns), the SLO's service and objective, and ``detail`` (``encode_detail``)."""
    burn = {w.window: w.burn_rate for w in status.windows}
    period = slo_window(status)
    return {
        "evaluation_id": evaluation_id,
        "position": position,
        "at": status.at,
        "epoch": epoch(status.at),
        "slo_id": status.slo_id,
        "service": status.service,
        "objective": status.objective,
        "sli": status.sli,
        "budget_remaining": status.budget_remaining,
        "budget_remaining_minutes": status.budget_remaining_minutes,
        **{column: burn.get(seconds) for seconds, column in BURN_RATE_COLUMNS.items()},
        "burn_rate_period": period.burn_rate if period is not None else None,
        "detail": encode_detail(status),
    }


def slo_status(row: Record) -> SLOStatus:
    return decode_detail(row)


def legacy_slo_status(row: Record) -> SLOStatus:
    """An SLOStatus from a row of revisions 0001-0008 (every field a column, JSON windows and
    decisions): read by migration 0009 only."""
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


def legacy_slo_columns(status: SLOStatus) -> Row:
    """The columns of revisions 0001-0008 that 0009 moved into ``detail`` (its downgrade)."""
    return {
        "name": status.name,
        "period": status.period,
        "period_elapsed": status.period_elapsed,
        "error_budget": status.error_budget,
        "budget_total_minutes": status.budget_total_minutes,
        "budget_remaining_events": status.budget_remaining_events,
        "exhaustion_at": status.exhaustion_at,
        "breaching": status.breaching,
        "reason": status.reason,
        "windows": [encode_window(w) for w in status.windows],
        "decisions": [encode_decision(d) for d in status.decisions],
    }


# -- golden signals: one wide row per service --------------------------------------------------


def encode_signal_order(names: Sequence[str]) -> str | None:
    """``signal_results.signal_order``: None for every signal in SIGNAL_ORDER, else the indexes
    of the signals present, in their order ("31": latency_p95 then error_ratio)."""
    if tuple(names) == SIGNAL_ORDER:
        return None
    return "".join(str(SIGNAL_ORDER.index(name)) for name in names)


def decode_signal_order(order: str | None) -> list[str]:
    return list(SIGNAL_ORDER) if order is None else [SIGNAL_ORDER[int(i)] for i in order]


def signal_rows(ev: Evaluation, evaluation_id: int) -> list[Row]:
    """One ``signal_results`` row per service, in the order services first appear.

    A signal that appears twice for one service keeps its last value.
    """
    rows: dict[str, Row] = {}
    order: dict[str, list[str]] = {}
    for sv in ev.signals:
        row = rows.get(sv.service)
        if row is None:
            row = {
                "evaluation_id": evaluation_id,
                "position": len(rows),
                "at": ev.at,
                "epoch": epoch(ev.at),
                "service": sv.service,
                **dict.fromkeys(SIGNAL_ORDER),
                "reasons": {},
            }
            rows[sv.service] = row
            order[sv.service] = []
        name = sv.signal.value
        row[name] = sv.value
        if name not in order[sv.service]:
            order[sv.service].append(name)
        if sv.reason is not None:
            row["reasons"][name] = sv.reason
        else:
            row["reasons"].pop(name, None)
    for service, row in rows.items():
        row["signal_order"] = encode_signal_order(order[service])
    return list(rows.values())


def signal_values(rows: Sequence[Record]) -> tuple[SignalValue, ...]:
    """Signals of an evaluation, grouped by service (rows in ``position`` order)."""
    return tuple(
        SignalValue(row["service"], Signal(name), row[name], row["reasons"].get(name))
        for row in rows
        for name in decode_signal_order(row["signal_order"])
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


# -- alerts of an evaluation: identities and compact entries --------------------------------------

# entry flags: the state's index in bits 0-1, then which optional fields follow
_A_SINCE, _A_FIRED, _A_RESOLVED, _A_UPDATED, _A_REASON = 4, 8, 16, 32, 64


def alert_identity(a: AlertStatus) -> Row:
    """An ``alert_identities`` row: the static part of an AlertStatus and its digest."""
    labels = dict(a.labels)
    static = [a.key, a.rule, a.service, a.slo_id, a.severity, float(a.threshold),
              list(labels.items())]
    return {
        "digest": hashlib.blake2b(_ENCODER.encode(static), digest_size=16).hexdigest(),
        "key": a.key,
        "rule": a.rule,
        "service": a.service,
        "slo_id": a.slo_id,
        "severity": a.severity,
        "threshold": float(a.threshold),
        "labels": labels,
    }


def encode_alert_entries(alerts: Sequence[AlertStatus], ids: Sequence[int],
                         at: datetime) -> bytes | None:
    """``evaluations.alert_entries``: per alert (in order) its identity's id, the state and
    what changes each cycle (value, times as microseconds from ``at``, reason); None: no alert."""
    if not alerts:
        return None
    entries: list[Any] = []
    for a, identity in zip(alerts, ids, strict=True):
        doc: list[Any] = [identity, ALERT_STATES.index(a.state.value), _pack(a.value)]
        for flag, moment in ((_A_SINCE, a.active_since), (_A_FIRED, a.fired_at),
                             (_A_RESOLVED, a.resolved_at)):
            if moment is not None:
                doc[1] |= flag
                doc.append(_micros(moment, at))
        if a.updated_at != at:
            doc[1] |= _A_UPDATED
            doc.append(_micros(a.updated_at, at))
        if a.reason is not None:
            doc[1] |= _A_REASON
            doc.append(a.reason)
        entries.append(doc)
    return _ENCODER.encode(entries)


def alert_entry_ids(blob: bytes | None) -> list[int]:
    """The identities an ``alert_entries`` value names."""
    return [] if blob is None else [entry[0] for entry in _DECODER.decode(blob)]


def decode_alert_entries(blob: bytes | None, at: datetime,
                         identities: Mapping[int, Record]) -> tuple[AlertStatus, ...]:
    if blob is None:
        return ()
    alerts = []
    for identity, flags, value, *rest in _DECODER.decode(blob):
        static = identities[identity]
        times = iter(rest)
        moments = [_from_micros(next(times), at) if flags & flag else None
                   for flag in (_A_SINCE, _A_FIRED, _A_RESOLVED)]
        updated = _from_micros(next(times), at) if flags & _A_UPDATED else at
        reason = next(times) if flags & _A_REASON else None
        alerts.append(AlertStatus(
            key=static["key"], rule=static["rule"], service=static["service"],
            slo_id=static["slo_id"], severity=static["severity"],
            state=AlertState(ALERT_STATES[flags & 3]), value=_unpack(value),
            threshold=static["threshold"], active_since=moments[0], fired_at=moments[1],
            resolved_at=moments[2], updated_at=updated, reason=reason,
            labels=dict(static["labels"]),
        ))
    return tuple(alerts)


# -- evaluations ----------------------------------------------------------------------------------


def evaluation_row(ev: Evaluation, identities: Mapping[str, int]) -> Row:
    """An ``evaluations`` row; ``identities``: digest -> id of every alert's identity."""
    ids = [identities[alert_identity(a)["digest"]] for a in ev.alerts]
    return {
        "at": ev.at,
        "started_at": ev.started_at,
        "finished_at": ev.finished_at,
        "complete": ev.complete,
        "problems": list(ev.problems),
        "query_count": ev.query_count,
        "alert_entries": encode_alert_entries(ev.alerts, ids, ev.at),
    }


def evaluation(
    row: Record,
    slo_rows: Sequence[Record],
    signal_rows: Sequence[Record],
    identities: Mapping[int, Record],
) -> Evaluation:
    return Evaluation(
        at=row["at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        slos=tuple(slo_status(r) for r in slo_rows),
        signals=signal_values(signal_rows),
        alerts=decode_alert_entries(row["alert_entries"], row["at"], identities),
        problems=tuple(row["problems"]),
        query_count=row["query_count"],
    )
