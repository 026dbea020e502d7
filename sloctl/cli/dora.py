"""`sloctl deploy record` (store one deployment event) and `sloctl dora` (the DORA scorecards)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.cli.output import Format, ReadOutputOption, emit
from sloctl.cli.timespec import SINCE_HELP, UntilOption, parse_range
from sloctl.dora import deploy_sources
from sloctl.dora import job as dora_job
from sloctl.dora.compute import Figure, Scorecard
from sloctl.dora.deploy_events import DeployEventError, parse_deployment_event
from sloctl.dora.incidents import load_dora_incidents
from sloctl.dora.levels import Metric, report_table
from sloctl.dora.model import DoraIncident
from sloctl.errors import EXIT_USAGE
from sloctl.store.deployments import Deployments

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)

SUMMARY_METRICS = (Metric.DEPLOYMENT_FREQUENCY, Metric.LEAD_TIME, Metric.CHANGE_FAILURE_RATE,
                   Metric.RECOVERY_TIME)
TITLES = {
    Metric.DEPLOYMENT_FREQUENCY: "deployment frequency",
    Metric.LEAD_TIME: "lead time for changes",
    Metric.CHANGE_FAILURE_RATE: "change failure rate",
    Metric.RECOVERY_TIME: "failed deployment recovery time",
    Metric.TIME_TO_RESTORE: "time to restore (incidents)",
    Metric.REWORK_RATE: "deployment rework rate (beta)",
}


def _deployment_store(ctx: typer.Context) -> Deployments:
    return get_ctx(ctx.obj).store.deployments


def _commits(values: Sequence[str]) -> list[dict[str, str]]:
    commits = []
    for i, value in enumerate(values):
        sha, at, time = value.partition("@")
        if not at or not sha or not time:
            raise DeployEventError(
                [(f"commits[{i}]", f"{value!r} is not SHA@TIME, e.g. 3f2a9c1@2026-11-27T09:00:00Z")]
            )
        commits.append({"sha": sha, "time": time})
    return commits


def record_command(
    ctx: typer.Context,
    service: Annotated[str, typer.Option(help="Service deployed.")],
    environment: Annotated[str, typer.Option(help="Environment, e.g. production.")],
    version: Annotated[str, typer.Option(help="Version or tag deployed.")],
    sha: Annotated[str, typer.Option(help="Commit SHA deployed (the head commit).")],
    commit_time: Annotated[str, typer.Option(help="Commit time of SHA, ISO 8601 with zone.")],
    finished: Annotated[str, typer.Option(help="When the deployment completed (ISO 8601).")],
    status: Annotated[str, typer.Option(help="success, failure, rollback or cancelled.")],
    started: Annotated[str | None, typer.Option(help="When the deployment started.")] = None,
    commit: Annotated[
        list[str] | None,
        typer.Option(
            "--commit",
            help="A commit first delivered by this deployment, SHA@TIME (repeatable; "
            "without it lead time is per head commit, a lower bound).",
        ),
    ] = None,
    ref: Annotated[str, typer.Option(help="Branch or tag (hotfix/revert patterns).")] = "",
    output: OutputOption = OutputFormat.table,
) -> None:
    """Record one deployment for the DORA metrics (idempotent per service, environment,
    version and finish time). Exit 2 naming the field when the event is invalid."""
    body: dict[str, Any] = {
        "service": service,
        "environment": environment,
        "version": version,
        "commit_sha": sha,
        "commit_time": commit_time,
        "finished_at": finished,
        "status": status,
        "commits": _commits(commit or []),
        "ref": ref,
    }
    if started is not None:
        body["started_at"] = started
    now = datetime.now(UTC)
    event = parse_deployment_event(body, now)
    recorded = _deployment_store(ctx).record(event, "cli", now)
    if output == OutputFormat.json:
        out.print_json(fmt.to_json({"created": recorded.created, "deployment": event}))
        return
    what = (
        "recorded"
        if recorded.created
        else "updated (same key: service, environment, version, finish time)"
    )
    out.print(
        f"{what}: {event.service}/{event.environment} {event.version} ({event.status.value}) "
        f"sha {event.sha} finished {fmt.when(event.finished)}, "
        f"{len(event.commits) or 'head'} commit(s)"
    )


def _incidents(ctx: typer.Context) -> list[DoraIncident]:
    """Qualifying production incidents recorded from Alertmanager (service.dora_incidents)."""
    c = get_ctx(ctx.obj)
    return load_dora_incidents(c.reader, c.settings, datetime.now(UTC))


def dora_command(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team (settings dora.teams).")] = None,
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "30d",
    until: UntilOption = None,
    report_year: Annotated[
        int | None,
        typer.Option(help="Level table: 2021, 2023 or 2024 (default: settings dora.report_year)."),
    ] = None,
    output: ReadOutputOption = Format.table,
) -> None:
    """DORA metrics per service/environment, team and organisation, with level, house goal and
    trend against the previous period of the same length."""
    c = get_ctx(ctx.obj)
    settings = c.settings.dora
    config = settings.config()
    if report_year is not None:
        try:
            report_table(report_year)
        except ValueError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(EXIT_USAGE) from None
        config = replace(config, report_year=report_year)
    span = parse_range(since, until, now=c.now, tz=c.tz, default_since="30d")
    start, end = span.since, span.until
    try:
        cards = dora_job.scorecards(
            c.reader.deployments,
            _incidents(ctx),
            config,
            settings.teams,
            start,
            end,
            c.settings.tzinfo,
            service=service,
            team=team,
            judgements=c.reader.canary.verdicts(),  # a failed canary, then a rollback
        )
    except dora_job.DoraScopeError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    cards = [_with_lead_time_note(card) for card in cards]
    emit(
        output,
        doc=lambda: [dora_job.card_json(card) for card in cards],
        rows=lambda: [_figure_row(card, f) for card in cards for f in card.figures],
        line=lambda: _dora_line(cards),
        table=lambda: _print_cards(cards, c.settings.timezone),
    )


def _print_cards(cards: list[Scorecard], timezone: str) -> None:
    if not any(card.services for card in cards):
        out.print(
            "[yellow]No production deployments stored yet.[/] Record them with "
            "[bold]sloctl deploy record[/] or POST /api/v1/deployments."
        )
    for card in cards:
        out.print(_card_table(card))
        for line in _footer(card, timezone):
            out.print(f"[dim]{line}[/]")


def _figure_row(card: Scorecard, f: Figure) -> dict[str, Any]:
    """One CSV row: a scorecard's metric with its sample size, level, goal and trend."""
    return {"scope": card.scope, "since": card.since, "until": card.until,
            "metric": f.metric.value, "value": f.value, "unit": f.unit, "p90": f.p90, "n": f.n,
            "level": f.level.value if f.level else None, "report_year": f.report_year,
            "goal_met": f.goal.met if f.goal else None, "trend": f.trend}


def _dora_line(cards: list[Scorecard]) -> str:
    """The organisation's (else the first) scorecard in one line: each metric's value."""
    if not cards:
        return "no DORA scorecard"
    card = next((c for c in cards if c.scope == "organisation"), cards[0])
    parts = [f"{TITLES[f.metric]} {_value(f, f.value)}" + (f" ({f.level.value})" if f.level
                                                           else "")
             for f in card.figures if f.metric in SUMMARY_METRICS]
    return f"DORA {card.scope}: " + ", ".join(parts)


def _with_lead_time_note(card: Scorecard) -> Scorecard:
    """Add the 'lead time unknown' note of deployments without a commit time (build info)."""
    note = deploy_sources.lead_time_note(card.data_quality)
    if note is None:
        return card
    figures = tuple(
        replace(f, notes=(*f.notes, note)) if f.metric == Metric.LEAD_TIME else f
        for f in card.figures
    )
    return replace(card, figures=figures)


def _value(f: Figure, value: float | None) -> str:
    if value is None:
        return "-"
    if f.unit == "seconds":
        return fmt.minutes(value / 60)
    if f.unit == "ratio":
        return fmt.pct(value, 1)
    return f"{value:.2f}/day"


def _card_table(card: Scorecard) -> Table:
    reasons: dict[str, list[str]] = {}
    for f in card.figures:
        if f.level is None and f.no_level_reason:
            reasons.setdefault(f.no_level_reason, []).append(TITLES[f.metric])
    caption = "\n".join(f"no level for {', '.join(m)}: {r}" for r, m in reasons.items())
    t = Table(
        title=f"DORA {card.scope}: {fmt.when(card.since)} - {fmt.when(card.until)}; levels: "
        f"{report_table(card.figures[0].report_year).label}",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption=caption or None,
        caption_justify="left",
    )
    for col in ("metric", "value", "p90", "n", "level", "house goal", "trend"):
        t.add_column(col, justify="right" if col in ("value", "p90", "n") else "left")
    for f in card.figures:
        value = _value(f, f.value)
        if f.numerator is not None:
            value += f" ({f.numerator}/{f.denominator})"
        if f.lower_bound:
            value += " (lower bound)"
        level = f"{f.level.value} ({f.report_year})" if f.level else "-"
        goal = "-" if f.goal is None else f.goal.text
        if f.goal is not None and f.goal.met is not None:
            goal += " [green]met[/]" if f.goal.met else " [red]missed[/]"
        trend = "-" if f.trend is None else f"{f.trend} (was {_value(f, f.previous)})"
        t.add_row(TITLES[f.metric], value, _value(f, f.p90), str(f.n), level, goal, trend)
    return t


def _footer(card: Scorecard, timezone: str) -> list[str]:
    """Deployments per ISO week, the counts left out of the figures, and data gaps."""
    df = card.figure(Metric.DEPLOYMENT_FREQUENCY)
    weeks = df.details.get("per_week")
    lines = []
    if isinstance(weeks, dict) and weeks:
        lines.append(
            f"deployments per ISO week ({timezone}): "
            + ", ".join(f"{w} {n}" for w, n in weeks.items())
        )
    lines.append(
        f"not counted: {card.redeploys} redeploy(s), {card.duplicates} duplicate event(s), "
        f"{card.failed_attempts} failed deploy attempt(s) (deploy failure rate "
        f"{fmt.pct(card.deploy_failure_rate, 1)})"
    )
    gaps = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in card.data_quality.items() if v)
    if gaps:
        lines.append(f"data quality: {gaps}")
    lines += [f"lead time: {n}" for n in card.figure(Metric.LEAD_TIME).notes]
    for deployment, age in card.open_failures:
        lines.append(f"still failing: {deployment} for {fmt.minutes(age / 60)}")
    return lines


def import_command(
    ctx: typer.Context,
    source: Annotated[
        deploy_sources.SourceName,
        typer.Option("--from", help="loki (JSON log lines) or prometheus (build-info versions)."),
    ],
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "1d",
    output: OutputOption = OutputFormat.table,
) -> None:
    """Import deployments from Loki or Prometheus build info (settings dora.sources); importing
    the same range again changes nothing. Exit 2 if the source is off, 3 if it is down."""
    c = get_ctx(ctx.obj)
    now = datetime.now(UTC)
    start = parse_range(since, None, now=now, tz=c.tz, default_since="1d").since
    report = deploy_sources.import_source(source, c.settings, _deployment_store(ctx), start, now)
    if output == OutputFormat.json:
        fmt.write_json(report)
        return
    out.print(
        f"{source}: {len(report.created)} new deployment(s), {len(report.updated)} already "
        f"stored, {len(report.bad)} bad event(s) from {fmt.when(start)} to {fmt.when(now)}"
    )
    for d in report.deployments:
        when = "commit time unknown" if d.commit_time is None else f"commit {d.commit_time}"
        out.print(
            f"  {d.service}/{d.environment} {escape(d.version)} {fmt.when(d.finished)} ({when})"
        )
    for bad in report.bad:
        err.print(f"[yellow]bad event[/] at {fmt.when(bad.at)}: {escape(bad.reason)}")
    for note in report.notes:
        out.print(f"[dim]{escape(note)}[/]")


def register(app: typer.Typer) -> None:
    deploy = typer.Typer(help="Deployment events for the DORA metrics.", no_args_is_help=True)
    deploy.command("record")(record_command)
    from sloctl.cli.deploy_list import list_command

    deploy.command("list")(list_command)
    deploy.command("import")(import_command)
    app.add_typer(deploy, name="deploy")
    app.command("dora")(dora_command)
