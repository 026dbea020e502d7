"""`sloctl alerts` and `sloctl incidents`: what Alertmanager told sloctl's webhook receiver.

`sloctl incidents link/unlink` override the DORA attribution of an incident to a deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.core import alert_rules
from sloctl.core.alert_rules import CONTEXT_LABELS
from sloctl.core.alerts import AlertState
from sloctl.core.incidents import AlertIncident
from sloctl.dora.incidents import (
    find_deployment,
    find_incident,
    incident_id,
    load_dora_incidents,
)
from sloctl.errors import EXIT_USAGE
from sloctl.runtime.alertmanager import summary_and_description
from sloctl.runtime.incidents import incidents as incidents_of
from sloctl.spec.durations import DURATION_HELP, parse_duration

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)

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


def _identity(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in CONTEXT_LABELS and v))


def _firing_rows(ctx: typer.Context) -> list[dict[str, Any]]:
    """One row per firing condition, newest first, with every source that reports it.

    Alerts received on the webhook and sloctl's own firing states share one identity (the same
    alertname and labels, ``sloctl.core.alert_rules``): a condition that both Prometheus' rules
    and sloctl raise is one row whose ``sources`` lists both.
    """
    context = get_ctx(ctx.obj)
    dashboard = context.settings.dashboard_url
    rows: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for a in context.reader.alerts.firing():
        sender = "sloctl" if a.generator_url.startswith(dashboard) else "prometheus"
        rows[_identity(a.labels)] = {
            "sources": [f"alertmanager ({sender})" if a.generator_url else "alertmanager"],
            "alert": a.alertname,
            "service": a.service,
            "severity": a.severity,
            "since": a.starts_at,
            "summary": a.annotations.get("summary", ""),
            "fingerprint": a.fingerprint,
            "labels": a.labels,
        }
    ev = context.reader.evaluations.latest()
    for s in ev.alerts if ev is not None else ():
        if s.state != AlertState.FIRING:
            continue
        labels = alert_rules.identity_labels(s)
        row = rows.setdefault(_identity(labels), {
            "sources": [],
            "alert": labels["alertname"],
            "service": s.service,
            "severity": s.severity,
            "since": s.fired_at or s.active_since or s.updated_at,
            "summary": summary_and_description(s)[0],
            "labels": labels,
        })
        row["sources"].insert(0, "sloctl")
        row.update(key=s.key, value=s.value, threshold=s.threshold)
    return sorted(rows.values(), key=lambda r: r["since"], reverse=True)


def alerts_command(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Alerts firing now, newest first: one row per condition, with its sources.

    Source "sloctl": sloctl's own firing alert states from the latest evaluation. Source
    "alertmanager (prometheus|sloctl)": alerts received on sloctl's webhook (POST
    /api/v1/alertmanager of `sloctl serve`) without a resolved notification yet, and who sent
    them last. Prometheus' generated rules and sloctl send the same alertname and labels, so one
    condition raised by both is one row (and one alert in Alertmanager).
    """
    rows = _firing_rows(ctx)
    if output == OutputFormat.json:
        out.print_json(fmt.to_json(rows))
        return
    if not rows:
        out.print("[green]No alert is firing.[/]")
        return
    t = Table(title="Firing alerts", header_style="bold", box=box.SIMPLE_HEAD)
    for col in ("since", "alert", "service", "severity", "sources", "summary"):
        t.add_column(col, no_wrap=col != "summary")
    for r in rows:
        t.add_row(
            fmt.when(r["since"]),
            r["alert"],
            r["service"],
            r["severity"] or "-",
            ", ".join(r["sources"]),
            r["summary"],
        )
    out.print(t)
    _print_exemplars(ctx, rows)


def _print_exemplars(ctx: typer.Context, rows: list[dict[str, Any]]) -> None:
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


def _incident_json(i: AlertIncident) -> dict[str, Any]:
    return {"id": incident_id(i.service, i.start), **asdict(i), "open": i.open}


def incidents_command(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "7d",
    service: Annotated[str | None, typer.Option("--service", help="Only this service.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Incidents per service from Alertmanager notifications.

    Alerts of one service whose intervals overlap or are at most incidents.merge_gap_seconds
    apart (default 5 min) form one incident; only severities in incidents.severities count.
    An incident is open while any of its alerts fires. Subcommands link/unlink override the
    DORA attribution of an incident.
    """
    if ctx.invoked_subcommand is not None:
        return
    context = get_ctx(ctx.obj)
    now = datetime.now(UTC)
    start = parse_since(since, now)
    if start > now:
        err.print(f"[red]--since {since} is in the future.[/] Give a past time or a duration.")
        raise typer.Exit(EXIT_USAGE)
    log = context.reader.alerts
    incidents = incidents_of(log, context.settings.incidents, now=now, since=start,
                             service=service)
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
    if gaps:
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
    app.command("alerts")(alerts_command)
    group = typer.Typer()
    group.callback(invoke_without_command=True)(incidents_command)
    group.command("link")(link_command)
    group.command("unlink")(unlink_command)
    app.add_typer(group, name="incidents")
