"""`sloctl alerts`: alerts firing now, at an instant (--at), or during a range (--since/--until).

Two sources share one identity (the same alertname and labels, ``sloctl.core.alert_rules``):
alerts received on sloctl's webhook from Alertmanager, and sloctl's own alert states (the latest
evaluation, the evaluation in effect at --at, or the stored transitions of a range). A condition
that both Prometheus' rules and sloctl raise is one row whose ``sources`` lists both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import get_ctx
from sloctl.cli.context import Context
from sloctl.cli.freshness import Freshness, MaxAgeOption, exit_code, warning
from sloctl.cli.output import Format, ReadOutputOption, emit
from sloctl.cli.timespec import AtOption, SinceOption, TimeRange, UntilOption, parse_at, parse_range
from sloctl.core import alert_rules
from sloctl.core.alert_rules import CONTEXT_LABELS
from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.errors import SloctlError

if TYPE_CHECKING:
    from sloctl.store.incidents import StoredAlert

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)

Identity = tuple[tuple[str, str], ...]
Row = dict[str, Any]


def _identity(labels: Mapping[str, str]) -> Identity:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in CONTEXT_LABELS and v))


def _received_row(a: StoredAlert, dashboard: str) -> Row:
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


def _own_row(s: AlertStatus, until: datetime | None = None) -> Row:
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


def _merge(rows: list[Row], own: Row) -> None:
    """Add sloctl's row to a received row of the same identity and overlapping interval."""
    for row in rows:
        if _identity(row["labels"]) != _identity(own["labels"]):
            continue
        if (row["until"] is None or row["until"] >= own["since"]) and (
            own["until"] is None or own["until"] >= row["since"]
        ):
            row["sources"].insert(0, "sloctl")
            row.update(key=own["key"], value=own["value"], threshold=own["threshold"])
            return
    rows.append(own)


def firing_rows(
    c: Context, at: datetime | None, limit: int | None = None
) -> tuple[list[Row], datetime | None]:
    """One row per condition firing now (or at ``at``), newest first (the newest ``limit``
    received alerts read from the store); and the instant of the evaluation sloctl's states
    come from (None without any)."""
    log = c.reader.alerts
    received = log.firing(limit) if at is None else [
        a for a in log.received(since=at)
        if a.starts_at <= at and (a.ends_at is None or a.ends_at > at)
    ]
    unique = {_identity(a.labels): a for a in received}  # instances differing by context only
    rows = [_received_row(a, c.settings.dashboard_url) for a in unique.values()]
    reads = c.reader.evaluations
    ev = reads.latest() if at is None else reads.at(at)
    for s in ev.alerts if ev is not None else ():
        if s.state is AlertState.FIRING:
            _merge(rows, _own_row(s))
    return sorted(rows, key=lambda r: r["since"], reverse=True), ev.at if ev else None


def range_rows(c: Context, span: TimeRange) -> list[Row]:
    """Every alert interval that overlaps ``span``, newest first (``until`` None: firing)."""
    log = c.reader.alerts
    rows = [_received_row(a, c.settings.dashboard_url)
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
            intervals.append(_own_row(opened.pop(t.key), until=t.resolved_at or t.updated_at))
    intervals += [_own_row(s) for s in opened.values()]
    for own in intervals:
        _merge(rows, own)
    return sorted(rows, key=lambda r: r["since"], reverse=True)


def alerts_command(
    ctx: typer.Context,
    at: AtOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: Annotated[str | None, typer.Option(
        "--service", help="Only this service's alerts.", show_default=False)] = None,
    output: ReadOutputOption = Format.table,
    max_age: MaxAgeOption = None,
    limit: Annotated[int, typer.Option(
        "--limit", "-n", min=0, help="The newest N rows only (0: all).")] = 0,
) -> None:
    """Alerts firing now (or --at an instant), newest first: one row per condition, with its
    sources; with --since/--until, every alert that fired during the range.

    Source "sloctl": sloctl's own alert states (the latest evaluation, or the one in effect
    then). Source "alertmanager (prometheus|sloctl)": alerts received on sloctl's webhook (POST
    /api/v1/alertmanager of `sloctl serve`), and who sent them last. Prometheus' generated rules
    and sloctl send the same alertname and labels, so one condition raised by both is one row
    (and one alert in Alertmanager). Exits 5 when the last evaluation is older than --max-age.

    Examples:

      sloctl alerts

      sloctl alerts --at 2026-11-20T14:00

      sloctl alerts --since 7d --service payment -o csv
    """
    c = get_ctx(ctx.obj)
    if at is not None and (since is not None or until is not None):
        raise SloctlError("give --at (one instant) or --since/--until (a range), not both")
    fresh: Freshness | None = None
    span: TimeRange | None = None
    if since is not None or until is not None:
        span = parse_range(since, until, now=c.now, tz=c.tz, default_since="1d")
        rows = range_rows(c, span)
        last = c.reader.evaluations.at(span.until)
        evaluated_at, reference = (last.at if last else None), span.until
    else:
        when = parse_at(at, now=c.now, tz=c.tz)
        rows, evaluated_at = firing_rows(c, when, (limit or None) if service is None else None)
        reference = when or c.now
    if service is not None:
        rows = [r for r in rows if r["service"] == service]
    if limit:
        rows = rows[:limit]
    if evaluated_at is not None:
        fresh = c.freshness(evaluated_at, max_age, reference)
        if output is Format.table or fresh.stale:
            err.print(warning(fresh))
    emit(
        output,
        doc=lambda: rows,
        rows=lambda: [_flat(r) for r in rows],
        line=lambda: _line(rows, span, fresh),
        table=lambda: _table(ctx, rows, span),
    )
    raise typer.Exit(exit_code(fresh, 0))


def _flat(row: Row) -> Row:
    flat = {k: v for k, v in row.items() if k != "labels"}
    flat["labels"] = [f"{k}={v}" for k, v in sorted(row["labels"].items())]
    return flat


def _line(rows: list[Row], span: TimeRange | None, fresh: Freshness | None) -> str:
    named = ", ".join(f"{r['service']} {r['alert']}" for r in rows[:3]) + (
        ", ..." if len(rows) > 3 else "")
    if span is None:
        text = (f"{len(rows)} alert{'s' if len(rows) != 1 else ''} firing ({named})" if rows
                else "no alert firing")
    else:
        firing = sum(r["until"] is None for r in rows)
        text = (f"{len(rows)} alert{'s' if len(rows) != 1 else ''} ({span.label}; "
                f"{firing} still firing): {named}" if rows else f"no alert ({span.label})")
    return f"{text}, {fresh.text()}" if fresh is not None else text


def _table(ctx: typer.Context, rows: list[Row], span: TimeRange | None) -> None:
    if not rows:
        out.print("[green]No alert is firing.[/]" if span is None
                  else f"[green]No alert ({span.label}).[/]")
        return
    title = "Firing alerts" if span is None else f"Alerts, {span.label}"
    t = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD)
    columns = ["since", *([] if span is None else ["until"]), "alert", "service", "severity",
               "sources", "summary"]
    for col in columns:
        t.add_column(col, no_wrap=col != "summary")
    for r in rows:
        end = [] if span is None else [
            "[bold red]firing[/]" if r["until"] is None else fmt.when(r["until"])]
        t.add_row(fmt.when(r["since"]), *end, r["alert"], r["service"], r["severity"] or "-",
                  ", ".join(r["sources"]), r["summary"])
    out.print(t)
    if span is None:
        _print_exemplars(ctx, rows)


def _print_exemplars(ctx: typer.Context, rows: list[Row]) -> None:
    """Exemplar traces stored by the trace step for the firing alerts (by key, else service).

    Only findings of an evaluation at or after the alert started are shown.
    """
    from sloctl.cli.status import exemplar_table
    from sloctl.store.traces import ExemplarRecord

    findings = get_ctx(ctx.obj).reader.traces.latest()
    if findings is None:
        return
    groups: dict[tuple[str, str, str], tuple[ExemplarRecord, list[str]]] = {}
    for r in rows:
        if findings.at < r["since"]:
            continue
        record = findings.exemplars_of(r["key"]) if "key" in r else None
        if record is None:
            record = next(
                (x for x in findings.exemplars if x.exemplars.service == r["service"]), None
            )
        if record is not None:
            ex = record.exemplars
            group = groups.setdefault((ex.service, ex.start, ex.end), (record, []))
            group[1].append(f"{r['alert']} ({r['service']})")
    for record, names in groups.values():
        out.print(exemplar_table(record, "Exemplars of " + ", ".join(names)))


def register(app: typer.Typer) -> None:
    """Add the ``alerts`` command to ``app``."""
    app.command("alerts")(alerts_command)
