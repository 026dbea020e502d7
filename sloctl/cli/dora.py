"""`sloctl deploy record` (store one deployment event) and `sloctl dora` (the DORA scorecards)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.cli.context import Context
from sloctl.core.dora import Figure, Scorecard, rollups, scorecard_with_trend
from sloctl.core.dora_history import ServiceHistory, build_histories
from sloctl.core.dora_levels import Metric, report_table
from sloctl.core.dora_model import DoraConfig, Incident
from sloctl.errors import EXIT_USAGE
from sloctl.service.deploy_events import DeployEventError, parse_deployment_event
from sloctl.spec.durations import DURATION_HELP, parse_duration
from sloctl.store.deployments import DeploymentStore

out = Console()
err = Console(stderr=True)

TITLES = {
    Metric.DEPLOYMENT_FREQUENCY: "deployment frequency",
    Metric.LEAD_TIME: "lead time for changes",
    Metric.CHANGE_FAILURE_RATE: "change failure rate",
    Metric.RECOVERY_TIME: "failed deployment recovery time",
    Metric.TIME_TO_RESTORE: "time to restore (incidents)",
    Metric.REWORK_RATE: "deployment rework rate (beta)",
}


def _deployment_store(ctx: typer.Context) -> DeploymentStore:
    return DeploymentStore(get_ctx(ctx.obj).store.engine)


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


def _since(value: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(value))
    except ValueError:
        raise typer.BadParameter(f"invalid duration {value!r}; {DURATION_HELP}") from None


def _incidents(ctx: typer.Context) -> list[Incident]:
    """Incidents recorded from Alertmanager. Not connected yet: none."""
    return []


def dora_command(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team (settings dora.teams).")] = None,
    since: Annotated[str, typer.Option(help="Window length, e.g. 30d, 12w.")] = "30d",
    report_year: Annotated[
        int | None,
        typer.Option(help="Level table: 2021, 2023 or 2024 (default: settings dora.report_year)."),
    ] = None,
    output: OutputOption = OutputFormat.table,
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
    until = datetime.now(UTC)
    start = until - _since(since)
    store = _deployment_store(ctx)
    histories = build_histories(store.deployments(until), _incidents(ctx), config, store.links())
    teams = {name: list(members) for name, members in settings.teams.items()}
    if team is not None:
        if team not in teams:
            known = ", ".join(sorted(teams)) or "none (set dora.teams in sloctl.yaml)"
            err.print(f"[red]unknown team {team!r}.[/] Known teams: {known}")
            raise typer.Exit(EXIT_USAGE)
        teams = {team: teams[team]}
        histories = {k: h for k, h in histories.items() if h.service in teams[team]}
    if service is not None:
        histories = {k: h for k, h in histories.items() if h.service == service}
        if not histories:
            err.print(
                f"[red]no production deployments or incidents for {service!r}.[/] Record "
                "some with [bold]sloctl deploy record[/]."
            )
            raise typer.Exit(EXIT_USAGE)
    cards = _cards(histories, teams if service is None else {}, start, until, c, config)
    if output == OutputFormat.json:
        fmt.write_json([_card_json(card) for card in cards])
        return
    if not histories:
        out.print(
            "[yellow]No production deployments stored yet.[/] Record them with "
            "[bold]sloctl deploy record[/] or POST /api/v1/deployments."
        )
    for card in cards:
        out.print(_card_table(card))
        for line in _footer(card, c.settings.timezone):
            out.print(f"[dim]{line}[/]")


def _cards(
    histories: dict[tuple[str, str], ServiceHistory],
    teams: dict[str, list[str]],
    start: datetime,
    until: datetime,
    c: Context,
    config: DoraConfig,
) -> list[Scorecard]:
    tz = c.settings.tzinfo
    if len(histories) == 1 and not teams:
        ((scope, history),) = histories.items()
        return [scorecard_with_trend([history], start, until, tz, config, "/".join(scope))]
    return rollups(histories, teams, start, until, tz, config)


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
    for deployment, age in card.open_failures:
        lines.append(f"still failing: {deployment} for {fmt.minutes(age / 60)}")
    return lines


def _card_json(card: Scorecard) -> dict[str, Any]:
    return {
        "scope": card.scope,
        "since": card.since.isoformat(),
        "until": card.until.isoformat(),
        "services": list(card.services),
        "metrics": {
            f.metric.value: {
                "value": f.value,
                "unit": f.unit,
                "p90": f.p90,
                "n": f.n,
                "numerator": f.numerator,
                "denominator": f.denominator,
                "level": f.level.value if f.level else None,
                "no_level_reason": f.no_level_reason,
                "report_year": f.report_year,
                "house_goal": None if f.goal is None else {"text": f.goal.text, "met": f.goal.met},
                "lower_bound": f.lower_bound,
                "previous": f.previous,
                "trend": f.trend,
                "notes": list(f.notes),
                "details": dict(f.details),
            }
            for f in card.figures
        },
        "redeploys": card.redeploys,
        "failed_attempts": card.failed_attempts,
        "deploy_failure_rate": card.deploy_failure_rate,
        "duplicates": card.duplicates,
        "data_quality": dict(card.data_quality),
        "open_failures": [{"deployment": d, "age_seconds": a} for d, a in card.open_failures],
    }


def register(app: typer.Typer) -> None:
    deploy = typer.Typer(help="Deployment events for the DORA metrics.", no_args_is_help=True)
    deploy.command("record")(record_command)
    app.add_typer(deploy, name="deploy")
    app.command("dora")(dora_command)
