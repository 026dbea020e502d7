"""`sloctl incidents`: incidents from what Alertmanager told sloctl's webhook receiver.

`sloctl incidents link/unlink` override the DORA attribution of an incident to a deployment.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import get_ctx
from sloctl.cli.output import Format, ReadOutputOption, emit
from sloctl.cli.timespec import SINCE_HELP, UntilOption, parse_range
from sloctl.core.incidents import AlertIncident
from sloctl.dora.incidents import (
    find_deployment,
    find_incident,
    incident_id,
    load_dora_incidents,
)
from sloctl.runtime.incidents import incidents as incidents_of

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)

def _incident_json(i: AlertIncident) -> dict[str, Any]:
    return {"id": incident_id(i.service, i.start), **asdict(i), "open": i.open}


def _incidents_table(incidents: list[AlertIncident], label: str) -> None:
    if not incidents:
        out.print(f"[green]No incident ({label}).[/]")
        return
    t = Table(title=f"Incidents, {label}", header_style="bold", box=box.SIMPLE_HEAD)
    for col in ("id", "service", "start", "end", "duration", "severity", "alerts"):
        t.add_column(col, no_wrap=col != "alerts")
    for i in reversed(incidents):
        end = "[bold red]open[/]" if i.end is None else fmt.when(i.end)
        t.add_row(
            incident_id(i.service, i.start),
            i.service,
            fmt.when(i.start),
            end,
            fmt.minutes(i.duration_seconds / 60),
            i.severity,
            ", ".join(i.alerts),
        )
    out.print(t)


def _incidents_line(incidents: list[AlertIncident], label: str) -> str:
    """``2 incidents (last 7d), 1 open: payment since 2026-11-20 14:00:00Z``."""
    if not incidents:
        return f"no incident ({label})"
    opened = [i for i in incidents if i.open]
    text = f"{len(incidents)} incident{'s' if len(incidents) != 1 else ''} ({label})"
    if opened:
        text += f", {len(opened)} open: " + ", ".join(
            f"{i.service} since {fmt.when(i.start)}" for i in opened[:3])
    return text


def incidents_command(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "7d",
    until: UntilOption = None,
    service: Annotated[str | None, typer.Option("--service", help="Only this service.")] = None,
    output: ReadOutputOption = Format.table,
) -> None:
    """Incidents per service from Alertmanager notifications.

    Alerts of one service whose intervals overlap or are at most incidents.merge_gap_seconds
    apart (default 5 min) form one incident; only severities in incidents.severities count.
    An incident is open while any of its alerts fires. Lists the incidents active between
    --since (default 7d) and --until (default now). Subcommands link/unlink override the
    DORA attribution of an incident.
    """
    if ctx.invoked_subcommand is not None:
        return
    context = get_ctx(ctx.obj)
    now = context.now
    span = parse_range(since, until, now=now, tz=context.tz, default_since="7d")
    start = span.since
    log = context.reader.alerts
    incidents = [
        i for i in incidents_of(log, context.settings.incidents, now=now, since=start,
                                service=service)
        if i.start <= span.until
    ]
    gaps = [g for g in log.data_gaps(since=start) if g.received_at <= span.until]
    rows = [_incident_json(i) for i in incidents]
    emit(
        output,
        doc=lambda: {"since": start, "until": span.until, "now": now, "incidents": rows,
                     "data_gaps": [asdict(g) for g in gaps]},
        rows=lambda: rows,
        line=lambda: _incidents_line(incidents, span.label),
        table=lambda: _incidents_table(incidents, span.label),
    )
    if gaps and output is Format.table:  # the other formats carry data_gaps
        dropped = sum(g.truncated_alerts for g in gaps)
        err.print(
            f"[yellow]data gap:[/] Alertmanager dropped {dropped} alert(s) in {len(gaps)} "
            "notification(s) (truncatedAlerts; raise max_alerts in its webhook_config); "
            "incidents may be missing."
        )


IncidentArg = Annotated[
    str,
    typer.Argument(
        help="Incident id as `sloctl incidents --output json` shows it, e.g. "
        "checkout@2026-11-27T09:00:00Z.",
        show_default=False,
    ),
]
NoteOption = Annotated[str, typer.Option(help="Why (stored with the override).")]


def link_command(
    ctx: typer.Context,
    incident: IncidentArg,
    deployment: Annotated[
        str,
        typer.Argument(
            help="Deployment of the incident's service and environment: its version, commit "
            "SHA (7+ hex digits) or VERSION@FINISHED (ISO time).",
            show_default=False,
        ),
    ],
    note: NoteOption = "",
) -> None:
    """Attribute an incident to a deployment, whatever the automatic rules say (DORA reason
    "manual"): the deployment then counts as failed in the change failure rate."""
    context = get_ctx(ctx.obj)
    now = datetime.now(UTC)
    found = find_incident(load_dora_incidents(context.store, context.settings, now), incident)
    store = context.store.deployments
    target = find_deployment(found, deployment, store.history(service=found.service))
    store.link(found.id, target.key, now, note)
    out.print(f"linked {found.id} to {target.key} (DORA attribution: manual)")


def unlink_command(
    ctx: typer.Context,
    incident: IncidentArg,
    auto: Annotated[
        bool, typer.Option("--auto", help="Drop the override: back to automatic attribution.")
    ] = False,
    note: NoteOption = "",
) -> None:
    """Attribute an incident to no deployment (it still counts for time to restore), or with
    --auto return it to the automatic attribution."""
    context = get_ctx(ctx.obj)
    now = datetime.now(UTC)
    found = find_incident(load_dora_incidents(context.store, context.settings, now), incident)
    store = context.store.deployments
    if auto:
        had = store.clear_link(found.id)
        what = "override removed" if had else "no override to remove"
        out.print(f"{found.id}: {what}; attribution is automatic")
        return
    store.unlink(found.id, now, note)
    out.print(f"unlinked {found.id} from any deployment (DORA attribution: unattributed)")


def register(app: typer.Typer) -> None:
    group = typer.Typer()
    group.callback(invoke_without_command=True)(incidents_command)
    group.command("link")(link_command)
    group.command("unlink")(unlink_command)
    app.add_typer(group, name="incidents")
