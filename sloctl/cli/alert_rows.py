"""The rows of `sloctl alerts`: one per condition, from the two sources that share its identity.

A condition is an alertname and its labels without the context labels (``CONTEXT_LABELS``);
alerts received from Alertmanager and sloctl's own alert states are joined on it, so a condition
that Prometheus' rules and sloctl both raise is one row whose ``sources`` lists both.

``firing_now`` streams: it yields rows as the store yields the received alerts (newest first),
holding sloctl's few own rows and a 16-byte digest per condition seen, never the rows.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sloctl.core import alert_rules
from sloctl.core.alert_rules import CONTEXT_LABELS
from sloctl.core.alerts import AlertState, AlertStatus

if TYPE_CHECKING:
    from sloctl.cli.context import Context
    from sloctl.cli.timespec import TimeRange
    from sloctl.core.evaluation import Evaluation
    from sloctl.store.alerts import AlertReads
    from sloctl.store.incidents import StoredAlert

Identity = tuple[tuple[str, str], ...]
Row = dict[str, Any]


def identity(labels: Mapping[str, str]) -> Identity:
    """A condition's identity: its labels without the context labels, sorted."""
    return tuple(sorted((k, v) for k, v in labels.items() if k not in CONTEXT_LABELS and v))


def received_row(a: StoredAlert, dashboard: str) -> Row:
    """The row of an alert received from Alertmanager."""
    sender = "sloctl" if a.generator_url.startswith(dashboard) else "prometheus"
    return {
        "sources": [f"alertmanager ({sender})" if a.generator_url else "alertmanager"],
        "alert": a.alertname,
        "service": a.service,
        "severity": a.severity,
        "since": a.starts_at,
        "until": a.ends_at,
        "summary": a.annotations.get("summary", ""),
        "fingerprint": a.fingerprint,
        "labels": a.labels,
    }


def own_row(s: AlertStatus, until: datetime | None = None) -> Row:
    """The row of one of sloctl's own alert states."""
    from sloctl.runtime.alertmanager import summary_and_description

    labels = alert_rules.identity_labels(s)
    return {
        "sources": ["sloctl"],
        "alert": labels["alertname"],
        "service": s.service,
        "severity": s.severity,
        "since": s.fired_at or s.active_since or s.updated_at,
        "until": until,
        "summary": summary_and_description(s)[0],
        "labels": labels,
        "key": s.key,
        "value": s.value,
        "threshold": s.threshold,
    }


def _join(row: Row, own: Row) -> None:
    """``own`` (sloctl's) becomes a source of ``row`` (a received alert's)."""
    row["sources"].insert(0, "sloctl")
    row.update(key=own["key"], value=own["value"], threshold=own["threshold"])


def merge(rows: list[Row], own: Row) -> None:
    """Add sloctl's row to a received row of the same identity and overlapping interval."""
    for row in rows:
        if identity(row["labels"]) != identity(own["labels"]):
            continue
        if (row["until"] is None or row["until"] >= own["since"]) and (
            own["until"] is None or own["until"] >= row["since"]
        ):
            _join(row, own)
            return
    rows.append(own)


def _since(row: Row) -> datetime:
    since: datetime = row["since"]
    return since


def firing_now(
    log: AlertReads, ev: Evaluation | None, dashboard: str, limit: int | None = None
) -> Iterator[Row]:
    """One row per condition firing now, newest first (ties: received before sloctl's own),
    as the store yields the received alerts (the newest ``limit`` of them when given).

    A condition received several times (instances differing by context labels only) is its
    newest instance. sloctl's own firing states (``ev``'s) join the received row of their
    condition, or stand alone at their own time: which of them have a received row is read
    first (the received alerts of their alertnames only; with ``limit``, the newest ``limit``
    are read once, and are at most that many).
    """
    own: dict[Identity, Row] = {}
    for s in ev.alerts if ev is not None else ():
        if s.state is AlertState.FIRING:
            row = own_row(s)
            own.setdefault(identity(row["labels"]), row)
    received: Iterable[StoredAlert]
    if limit is not None:
        received = list(log.iter_firing(limit))
        candidates: Iterable[StoredAlert] = received
    else:
        received = log.iter_firing()
        candidates = log.iter_firing(alertnames={r["alert"] for r in own.values()}) if own else ()
    joined = {i for a in candidates if (i := identity(a.labels)) in own}
    alone = sorted((r for i, r in own.items() if i not in joined), key=_since, reverse=True)
    rows = _received_rows(received, own, dashboard)
    return heapq.merge(rows, alone, key=_since, reverse=True)


def _received_rows(
    received: Iterable[StoredAlert], own: Mapping[Identity, Row], dashboard: str
) -> Iterator[Row]:
    """A row per condition, the first (newest) instance of each, joined with sloctl's own."""
    seen: set[bytes] = set()
    for a in received:
        key = identity(a.labels)
        digest = hashlib.blake2b(repr(key).encode(), digest_size=16).digest()
        if digest in seen:
            continue
        seen.add(digest)
        row = received_row(a, dashboard)
        if key in own:
            _join(row, own[key])
        yield row


def firing_at(c: Context, at: datetime) -> tuple[list[Row], datetime | None]:
    """One row per condition firing at ``at``, newest first; and the instant of the evaluation
    sloctl's states come from (None without any)."""
    received = [
        a for a in c.reader.alerts.received(since=at)
        if a.starts_at <= at and (a.ends_at is None or a.ends_at > at)
    ]
    unique = {identity(a.labels): a for a in received}  # instances differing by context only
    rows = [received_row(a, c.settings.dashboard_url) for a in unique.values()]
    ev = c.reader.evaluations.at(at)
    for s in ev.alerts if ev is not None else ():
        if s.state is AlertState.FIRING:
            merge(rows, own_row(s))
    return sorted(rows, key=_since, reverse=True), ev.at if ev else None


def range_rows(c: Context, span: TimeRange) -> list[Row]:
    """Every alert interval that overlaps ``span``, newest first (``until`` None: firing)."""
    log = c.reader.alerts
    rows = [received_row(a, c.settings.dashboard_url)
            for a in log.received(since=span.since) if a.starts_at <= span.until]
    before = c.reader.evaluations.at(span.since)
    opened: dict[str, AlertStatus] = {
        s.key: s for s in (before.alerts if before else ()) if s.state is AlertState.FIRING
    }
    intervals: list[Row] = []
    for t in log.transitions(since=span.since):
        if t.updated_at > span.until:
            break
        if t.state is AlertState.FIRING:
            opened.setdefault(t.key, t)
        elif t.key in opened:
            intervals.append(own_row(opened.pop(t.key), until=t.resolved_at or t.updated_at))
    intervals += [own_row(s) for s in opened.values()]
    for own in intervals:
        merge(rows, own)
    return sorted(rows, key=_since, reverse=True)
