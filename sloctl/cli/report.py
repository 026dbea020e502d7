"""`sloctl report weekly`: a period's scorecard as files (.html, .txt, .eml) or as an email;
`sloctl report --since --until`: attainment and budget of every SLO over any range."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from sloctl.cli.common import get_ctx
from sloctl.cli.output import Format, ReadOutputOption, emit
from sloctl.cli.range_report import print_range, range_doc, range_line, range_row
from sloctl.cli.timespec import SINCE_HELP, UntilOption, parse_range
from sloctl.errors import EXIT_BACKEND, EXIT_USAGE
from sloctl.report.build import build_all
from sloctl.report.measure import inputs_for, measure_inputs
from sloctl.report.period import (
    Period,
    PeriodError,
    last_complete_week,
    parse_period,
    range_period,
)
from sloctl.report.render import render
from sloctl.report.scorecard import ORGANISATION, PeriodScorecard, Scope, ScopeKind
from sloctl.report.smtp import SmtpTransport
from sloctl.report.weekly import (
    Outgoing,
    app_url,
    claim_of,
    compose,
    outgoing,
    publish,
    send_all,
)
from sloctl.settings import Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.store.reports import SendRecord, SendState

app = typer.Typer(name="report", invoke_without_command=True)

EXAMPLES = """

Examples:

  sloctl report weekly    (last week, organisation: ./sloctl-report-*.html .txt .eml)

  sloctl report weekly --week 2026-W49 --team payments --out reports/

  sloctl report weekly --send    (to report.organisation and report.teams)

  sloctl report weekly --send --to cto@example.com    (one email, to this list only)

A week is measured once (from Prometheus, at its end) and stored: the files and emails of a
past week always show the same figures. Each (week, scope, recipient list) is emailed at most
once; `sloctl serve` sends the same emails by itself every Monday 08:00 (report.schedule)."""


def range_command(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help=SINCE_HELP,
                                              show_default=False)] = None,
    until: UntilOption = None,
    team: Annotated[str | None, typer.Option(
        help="Only this team's SLOs (the `team` label of their specs).")] = None,
    output: ReadOutputOption = Format.table,
    out: Annotated[Path | None, typer.Option(
        help="Also write the range's scorecard as .html, .txt and .eml files in this folder.",
        show_default=False)] = None,
) -> None:
    """Attainment and budget of every SLO over any range (--since/--until); the weekly scorecard.

    `sloctl report --since ... [--until ...]` measures now, from Prometheus: each SLO's
    attainment is its good events / all events in [--since, --until), exact from the
    backend's counts at --until (never an average of stored ratios); the range's budget left
    is 1 - bad / (events x (1 - objective)); window budget spent is the share of the SLO
    window's budget the range's bad events used, window budget left the share left in that
    window at --until. Maintenance (specs and `sloctl maintenance`) is left out, and named.

    Examples:

      sloctl report --since 30d

      sloctl report --since 2026-11-01 --until 2026-12-01 --team payments -o csv

      sloctl report --since 7d --out reports/    (also the scorecard as files)

      sloctl report weekly --help    (the weekly scorecard: files or an email)

    Exits 3 when the backend answered errors for some queries (their SLOs show as unknown).
    """
    if ctx.invoked_subcommand is not None:
        if since is not None or until is not None or out is not None:
            raise typer.BadParameter(
                f"--since, --until and --out are for the range report; `report "
                f"{ctx.invoked_subcommand}` takes its own options after its name",
                param_hint="--since")
        return
    if since is None and until is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    c = get_ctx(ctx.obj)
    settings = c.settings
    span = parse_range(since, until, now=c.now, tz=c.tz, default_since="7d")
    try:
        period = range_period(span.since, span.until, settings.timezone)
    except PeriodError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
    specs = c.specs()
    source = PrometheusSource(settings.prometheus)
    try:
        inputs = measure_inputs(period, settings, specs, c.store, source, c.now)
    finally:
        source.close()
    card = _card(build_all(inputs, settings.tzinfo), team)
    for problem in inputs.current.problems:
        typer.echo(f"warning: {problem}", err=True)
    if out is not None:
        for path in _write(card, settings, out, (), c.now):
            typer.echo(str(path), err=True)
    rows = [range_row(line) for line in card.slos]
    emit(
        output,
        doc=lambda: range_doc(card, span.label, rows),
        rows=lambda: rows,
        line=lambda: range_line(card, span.label),
        table=lambda: print_range(card, span.label, rows),
    )
    if inputs.current.problems:
        raise typer.Exit(EXIT_BACKEND)


def _period(settings: Settings, week: str | None, now: datetime) -> Period:
    try:
        if week is None:
            return last_complete_week(now, settings.tzinfo, settings.timezone)
        return parse_period(week, settings.tzinfo, settings.timezone)
    except PeriodError as exc:
        raise typer.BadParameter(str(exc), param_hint="--week") from None


def _card(cards: dict[str, PeriodScorecard], team: str | None) -> PeriodScorecard:
    if team is None:
        return cards[ORGANISATION.key]
    card = cards.get(Scope(ScopeKind.TEAM, team).key)
    if card is None:
        known = ", ".join(k.removeprefix("team/") for k in cards if k.startswith("team/"))
        typer.echo(f"error: team {team!r} has no SLOs (no spec carries the label team: {team}); "
                   f"teams with SLOs: {known or 'none'}", err=True)
        raise typer.Exit(EXIT_USAGE)
    return card


def _write(card: PeriodScorecard, settings: Settings, out: Path, recipients: tuple[str, ...],
           now: datetime) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rendered = render(card, app_url(settings), settings.report.warning_budget_left)
    html = rendered.html
    for cid, png in rendered.images.items():  # a file to open in a browser: images inline
        html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png)
                            .decode())
    stem = out / f"sloctl-report-{card.period.key}-{card.scope.key.replace('/', '-')}"
    one = Outgoing(card, recipients)
    claim = claim_of(one, settings)
    record = SendRecord(claim.key, claim.period, claim.scope, recipients, claim.message_id,
                        SendState.PENDING, 0, now, now, None, None, None, None)
    message = compose(one, settings, record)
    paths = [stem.with_suffix(".html"), stem.with_suffix(".txt"), stem.with_suffix(".eml")]
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_text(rendered.text, encoding="utf-8")
    paths[2].write_bytes(message.as_bytes())
    return paths


def _print_record(record: SendRecord) -> None:
    to = ", ".join(record.recipients)
    sent = record.sent_at.isoformat() if record.sent_at else ""
    retry = record.next_attempt_at.isoformat() if record.next_attempt_at else ""
    what = {
        SendState.SENT: f"sent {sent}",
        SendState.FAILED: f"not sent yet (attempt {record.attempts} failed; next attempt {retry})",
    }.get(record.state, record.state.value)
    typer.echo(f"{record.period} {record.scope} -> {to}: {what}; Message-ID {record.message_id}")
    if record.last_error and record.state is not SendState.SENT:
        typer.echo(f"  {record.last_error}", err=True)


def weekly_command(
    ctx: typer.Context,
    week: Annotated[str | None, typer.Option(
        help="ISO week in the settings' timezone, e.g. 2026-W49 (default: the last complete "
        "week).")] = None,
    team: Annotated[str | None, typer.Option(
        help="Only this team's scorecard (the `team` label of its SLOs).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the .html, .txt and .eml files.")]
    = Path("."),
    send: Annotated[bool, typer.Option(
        "--send", help="Email it (report.smtp) instead of writing files.")] = False,
    to: Annotated[list[str] | None, typer.Option(
        help="Recipient (repeatable); default: report.organisation, or report.teams.TEAM "
        "with --team.")] = None,
) -> None:
    """Build the scorecard of a week and write it as files, or --send it by email."""
    c = get_ctx(ctx.obj)
    settings = c.settings
    now = datetime.now(UTC)
    period = _period(settings, week, now)
    for address in to or ():
        from sloctl.report.config import check_address

        try:
            check_address(address)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--to") from None
    if send and settings.report.smtp.host is None:
        typer.echo("error: no SMTP server configured: set SLOCTL_SMTP_HOST (report.smtp.host) "
                   "and, if it needs them, SLOCTL_SMTP_USERNAME and SLOCTL_SMTP_PASSWORD",
                   err=True)
        raise typer.Exit(EXIT_USAGE)
    source = PrometheusSource(settings.prometheus)
    try:
        inputs, stored = inputs_for(period, settings, c.specs(), c.store, source, now,
                                    store_problems=not send)
    finally:
        source.close()
    for problem in inputs.current.problems:
        typer.echo(f"warning: {problem}", err=True)
    if not stored and now < period.end:
        typer.echo(f"note: {period.key} has not ended: figures so far, not stored", err=True)
    if send and not stored:
        typer.echo(f"error: the backend answered errors while measuring {period.key}: nothing "
                   "was sent; try again when it answers", err=True)
        raise typer.Exit(EXIT_BACKEND)
    cards = publish(c.store, inputs, settings, now) if stored else build_all(
        inputs, settings.tzinfo)
    card = _card(cards, team)
    if not send:
        recipients = tuple(to or ())
        for path in _write(card, settings, out, recipients, now):
            typer.echo(str(path))
        return
    emails = outgoing(cards, settings, to=to or (), team=team)
    if not emails:
        typer.echo("error: no recipients: set report.organisation or report.teams in "
                   "sloctl.yaml, or give --to", err=True)
        raise typer.Exit(EXIT_USAGE)
    records = send_all(c.store, settings, emails, SmtpTransport(settings.report.smtp),
                       lambda: datetime.now(UTC), wait_for_lease=True)
    for record in records:
        _print_record(record)
    if any(r.state is not SendState.SENT for r in records):
        raise typer.Exit(EXIT_BACKEND)


weekly_command.__doc__ = (weekly_command.__doc__ or "") + EXAMPLES


def register(root: typer.Typer) -> None:
    app.callback()(range_command)
    app.command("weekly")(weekly_command)
    root.add_typer(app)
