"""`sloctl alerts` and `sloctl incidents`: what Alertmanager told sloctl's webhook receiver."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.core.incidents import Incident
from sloctl.core.types import AlertState
from sloctl.errors import EXIT_USAGE
from sloctl.spec.durations import DURATION_HELP, parse_duration
from sloctl.store.incidents import AlertLog

out = Console()
err = Console(stderr=True)

SINCE_HELP = (
    "Only incidents active after this: a duration back from now (7d, 12h, 30m) or an ISO time "
    "(2026-11-01 or 2026-11-01T08:00:00Z; UTC unless it has an offset)."
)


def parse_since(value: str, now: datetime) -> datetime:
    """``7d`` -> now minus 7 days; an ISO date/time -> that instant (naive means UTC)."""
    try:
        return now - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a duration nor an ISO time; {DURATION_HELP}, or an ISO time "
            "such as 2026-11-01T08:00:00Z",
            param_hint="--since",
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _firing_rows(ctx: typer.Context) -> list[dict[str, Any]]:
    """Received alerts still firing, and sloctl's own firing alerts; newest first."""
    context = get_ctx(ctx.obj)
    rows: list[dict[str, Any]] = [
        {
            "source": "alertmanager",
            "alert": a.alertname,
            "service": a.service,
            "severity": a.severity,
            "since": a.starts_at,
            "summary": a.annotations.get("summary", ""),
            "fingerprint": a.fingerprint,
            "labels": a.labels,
        }
        for a in AlertLog(context.store).firing()
    ]
    ev = context.store.latest_evaluation()
    for s in ev.alerts if ev is not None else ():
        if s.state == AlertState.FIRING:
            rows.append(
                {
                    "source": "sloctl",
                    "alert": s.rule,
                    "service": s.service,
                    "severity": s.severity,
                    "since": s.fired_at or s.active_since or s.updated_at,
                    "summary": s.key,
                    "key": s.key,
                    "value": s.value,
                    "threshold": s.threshold,
                    "labels": dict(s.labels),
                }
            )
    rows.sort(key=lambda r: r["since"], reverse=True)
    return rows


def alerts_command(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Alerts firing now, newest first.

    Source "alertmanager": alerts received on sloctl's webhook (POST /api/v1/alertmanager of
    `sloctl serve`) without a resolved notification yet. Source "sloctl": sloctl's own firing
    alert states from the latest evaluation.
    """
    rows = _firing_rows(ctx)
    if output == OutputFormat.json:
        out.print_json(fmt.to_json(rows))
        return
    if not rows:
        out.print("[green]No alert is firing.[/]")
        return
    t = Table(title="Firing alerts", header_style="bold", box=box.SIMPLE_HEAD)
    for col in ("since", "alert", "service", "severity", "source", "summary"):
        t.add_column(col, no_wrap=col != "summary")
    for r in rows:
        t.add_row(
            fmt.when(r["since"]),
            r["alert"],
            r["service"],
            r["severity"] or "-",
            r["source"],
            r["summary"],
        )
    out.print(t)


def _incident_json(i: Incident) -> dict[str, Any]:
    return {**asdict(i), "open": i.open}


def incidents_command(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "7d",
    service: Annotated[str | None, typer.Option("--service", help="Only this service.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Incidents per service from Alertmanager notifications.

    Alerts of one service whose intervals overlap or are at most incidents.merge_gap_seconds
    apart (default 5 min) form one incident; only severities in incidents.severities count.
    An incident is open while any of its alerts fires.
    """
    context = get_ctx(ctx.obj)
    now = datetime.now(UTC)
    start = parse_since(since, now)
    if start > now:
        err.print(f"[red]--since {since} is in the future.[/] Give a past time or a duration.")
        raise typer.Exit(EXIT_USAGE)
    log = AlertLog(context.store)
    incidents = log.incidents(context.settings.incidents, now=now, since=start, service=service)
    gaps = log.data_gaps(since=start)
    if output == OutputFormat.json:
        doc = {
            "since": start,
            "now": now,
            "incidents": [_incident_json(i) for i in incidents],
            "data_gaps": [asdict(g) for g in gaps],
        }
        out.print_json(fmt.to_json(doc))
        return
    if not incidents:
        out.print(f"[green]No incident since {fmt.when(start)}.[/]")
    else:
        t = Table(
            title=f"Incidents since {fmt.when(start)}", header_style="bold", box=box.SIMPLE_HEAD
        )
        for col in ("service", "start", "end", "duration", "severity", "alerts"):
            t.add_column(col, no_wrap=col != "alerts")
        for i in reversed(incidents):
            end = "[bold red]open[/]" if i.end is None else fmt.when(i.end)
            t.add_row(
                i.service,
                fmt.when(i.start),
                end,
                fmt.minutes(i.duration_seconds / 60),
                i.severity,
                ", ".join(i.alerts),
            )
        out.print(t)
    if gaps:
        dropped = sum(g.truncated_alerts for g in gaps)
        err.print(
            f"[yellow]data gap:[/] Alertmanager dropped {dropped} alert(s) in {len(gaps)} "
            "notification(s) (truncatedAlerts; raise max_alerts in its webhook_config); "
            "incidents may be missing."
        )


def register(app: typer.Typer) -> None:
    app.command("alerts")(alerts_command)
    app.command("incidents")(incidents_command)
