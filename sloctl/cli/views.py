"""The data of ``status``, ``slo show`` and ``signals`` as documents, CSV rows and one-liners.

Pure functions of an evaluation: the output formats of ``sloctl.cli.output`` are built here, the
tables stay in ``status``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sloctl.cli.freshness import Freshness
from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import NO_DATA_PREFIX, Evaluation
from sloctl.core.signals import Signal, SignalValue
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import window_name

ROW_WINDOWS = (3600, 21600, 86400, 259200)
LINE_ITEMS = 3  # breaching SLOs named in the one-line summary


@dataclass(frozen=True)
class Scope:
    """Which SLOs and services a command shows (None: all)."""

    services: frozenset[str] | None = None
    slo_ids: frozenset[str] | None = None

    def keeps_slo(self, s: SLOStatus) -> bool:
        return (self.services is None or s.service in self.services) and (
            self.slo_ids is None or s.slo_id in self.slo_ids
        )

    def keeps_service(self, service: str) -> bool:
        return self.services is None or service in self.services


def scoped(ev: Evaluation, scope: Scope) -> Evaluation:
    """``ev`` with only the SLOs, signals, alerts and no-data problems of ``scope`` (backend
    errors and notes are kept: they are the cycle's)."""
    if scope == Scope():
        return ev
    slos = tuple(s for s in ev.slos if scope.keeps_slo(s))
    ids = {s.slo_id for s in slos}
    services = {s.service for s in slos} if scope.slo_ids is not None else None

    def keeps(service: str) -> bool:
        return scope.keeps_service(service) and (services is None or service in services)

    alerts = tuple(
        a for a in ev.alerts
        if (a.slo_id in ids if a.slo_id else keeps(a.service))
    )
    wanted = {f"{NO_DATA_PREFIX}{i}:" for i in ids}
    problems = tuple(
        p for p in ev.problems
        if not p.startswith(NO_DATA_PREFIX) or p.startswith(tuple(wanted))
        or any(p.startswith(f"{NO_DATA_PREFIX}signals of {svc}:")
               for svc in {v.service for v in ev.signals} if keeps(svc))
    )
    signals = tuple(v for v in ev.signals if keeps(v.service))
    return replace(ev, slos=slos, signals=signals, alerts=alerts, problems=problems)


def alert_state(ev: Evaluation, slo_id: str) -> AlertState:
    """The most urgent state of an SLO's alerts (firing, pending, resolved, else inactive)."""
    states = [a.state for a in ev.alerts if a.slo_id == slo_id]
    for s in (AlertState.FIRING, AlertState.PENDING, AlertState.RESOLVED):
        if s in states:
            return s
    return AlertState.INACTIVE


def plain(obj: Any) -> Any:
    """The JSON document of ``obj`` as plain dicts and lists."""
    from sloctl.cli.output import to_json

    return json.loads(to_json(obj))


def with_freshness(doc: Any, fresh: Freshness | None) -> Any:
    """A JSON object with the data's age added (lists are returned as they are)."""
    if fresh is None or not isinstance(doc, dict):
        return doc
    return {**doc, **plain(fresh.json())}


def slo_row(s: SLOStatus, ev: Evaluation) -> dict[str, Any]:
    """One CSV row of ``status``."""
    row: dict[str, Any] = {
        "slo_id": s.slo_id, "service": s.service, "objective": s.objective,
        "period_seconds": s.period, "sli": s.sli, "breaching": s.breaching,
        "no_data": s.no_data, "budget_remaining": s.budget_remaining,
        "budget_remaining_minutes": s.budget_remaining_minutes,
    }
    for w in ROW_WINDOWS:
        wr = s.window(w)
        row[f"burn_rate_{window_name(w)}"] = wr.burn_rate if wr else None
    row["alert"] = alert_state(ev, s.slo_id).value
    row["at"] = s.at
    return row


def window_rows(s: SLOStatus) -> list[dict[str, Any]]:
    """The CSV rows of ``slo show``: one per window."""
    return [
        {"slo_id": s.slo_id, "window": window_name(w.window), "sli": w.sli,
         "error_ratio": w.error_ratio, "burn_rate": w.burn_rate, "total": w.total, "bad": w.bad,
         "coverage": w.coverage, "interpolated": w.interpolated, "reason": w.reason, "at": s.at}
        for w in s.windows
    ]


def signal_rows(values: Iterable[SignalValue]) -> list[dict[str, Any]]:
    """The CSV rows of ``signals``: one per service, a column per signal."""
    rows: dict[str, dict[str, Any]] = {}
    for v in values:
        row = rows.setdefault(v.service, {"service": v.service, **{s.value: None for s in Signal}})
        row[v.signal.value] = v.value
    return [rows[k] for k in sorted(rows)]


def percent(ratio: float | None) -> str:
    """``0.971`` -> ``97.1 %`` (2 decimals at most)."""
    return "unknown" if ratio is None else f"{round(ratio * 100, 2):g} %"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _named(items: Sequence[str]) -> str:
    shown = ", ".join(items[:LINE_ITEMS])
    return f" ({shown}{', ...' if len(items) > LINE_ITEMS else ''})" if items else ""


def status_line(ev: Evaluation, fresh: Freshness | None) -> str:
    """``3 SLOs breaching (payment/availability 97.1 %, ...), 2 alerts firing, data 40 s old``."""
    breaching = sorted((s for s in ev.slos if s.breaching), key=lambda s: s.sli or 0.0)
    blind = [s.slo_id for s in ev.slos if s.no_data]
    if breaching:
        named = [f"{s.slo_id} {percent(s.sli)}" for s in breaching]
        parts = [f"{_plural(len(breaching), 'SLO')} breaching{_named(named)}"]
    else:
        parts = [f"all {_plural(len(ev.slos), 'SLO')} within objective"]
    if blind:
        parts.append(f"{len(blind)} without data{_named(blind)}")
    firing = sum(a.state is AlertState.FIRING for a in ev.alerts)
    parts.append(f"{_plural(firing, 'alert')} firing" if firing else "no alert firing")
    if fresh is not None:
        parts.append(fresh.text())
    return ", ".join(parts)


def slo_line(s: SLOStatus, fresh: Freshness | None) -> str:
    """``payment/availability: SLI 97.1 % vs 99.5 %, breaching, budget left -480 %, ...``."""
    state = "no data" if s.no_data else ("breaching" if s.breaching else "within objective")
    parts = [f"{s.slo_id}: SLI {percent(s.sli)} vs {percent(s.objective)}", state,
             f"budget left {percent(s.budget_remaining)}"]
    if fresh is not None:
        parts.append(fresh.text())
    return ", ".join(parts)


def signals_line(values: Sequence[SignalValue], fresh: Freshness | None) -> str:
    """``5 services: payment errors 1.2 %, inventory p95 450 ms, data 40 s old``."""
    rows = signal_rows(values)
    worst = [f"{r['service']} errors {percent(r['error_ratio'])}" for r in
             sorted(rows, key=lambda r: -(r["error_ratio"] or 0.0)) if r["error_ratio"]]
    parts = [_plural(len(rows), "service") + (f": {', '.join(worst[:LINE_ITEMS])}" if worst
                                              else ": no errors")]
    if fresh is not None:
        parts.append(fresh.text())
    return ", ".join(parts)
