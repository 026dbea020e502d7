"""`sloctl eval` (one cycle now or at a past instant) and `sloctl serve` (every interval)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sloctl.cli import fmt, timespec
from sloctl.cli import status as status_cmd
from sloctl.cli.common import FailOn, OutputFormat, OutputOption, SpecOption, exit_for, get_ctx
from sloctl.core.evaluation import Evaluation
from sloctl.errors import EXIT_BACKEND
from sloctl.extras import needs, require
from sloctl.runtime import trace_step

if TYPE_CHECKING:
    from sloctl.runtime.daemon import Daemon
    from sloctl.runtime.telemetry import Tracing
    from sloctl.settings import Settings

err = fmt.SafeConsole(stderr=True)
log = logging.getLogger(__name__)

def _run_with_progress(
    ctx_obj: object, at: datetime | None, quiet: bool
) -> tuple[Evaluation, bool]:
    """Run one cycle; returns it and whether Prometheus was unreachable."""
    ctx = get_ctx(ctx_obj)
    evaluator, source = ctx.evaluator()
    try:
        if quiet:
            return evaluator.run_cycle(at), evaluator.last_unreachable
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("querying Prometheus", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                desc = "querying Prometheus" if stage == "query" else "saving to the store"
                bar.update(task, description=desc, completed=done, total=total)

            ev = evaluator.run_cycle(at, progress=progress)
            return ev, evaluator.last_unreachable
    finally:
        source.close()


def eval_command(
    ctx: typer.Context,
    at: Annotated[str | None, typer.Option(
        "--at", help="Evaluate as of this instant (every query uses this timestamp, so history "
        f"can be backfilled and results reproduced): {timespec.TIME_HELP}.")] = None,
    output: OutputOption = OutputFormat.table,
    fail_on: FailOn = None,
    spec: SpecOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run one evaluation cycle now (or --at a past instant), store it, and show the status.

    Every SLO, golden signal and default alert rule is evaluated with one batch of concurrent
    Prometheus queries at a single timestamp. Exits 3 whenever a query failed (unreachable,
    an error answer, garbage, or above a cap: some values are unknown); every exit code is in
    `sloctl --help`.

    Examples:

      sloctl eval

      sloctl eval --at 2026-11-20T14:00:00Z --output json

      sloctl eval --at -6h --fail-on breach
    """
    c = get_ctx(ctx.obj)
    if spec:
        c.spec_paths = spec
    when = timespec.parse_at(at, now=c.now, tz=c.tz)
    tracing = _tracing(c.settings)
    try:
        ev, unreachable = _run_with_progress(ctx.obj, when, quiet or output != OutputFormat.table)
    finally:
        if tracing is not None:
            tracing.shutdown()
    status_cmd.show_evaluation(ev, output)
    status_cmd.show_trace_findings(trace_step.after_cycle(ev, c.settings, c.store))
    if not quiet and output == OutputFormat.table:
        err.print(f"[dim]{ev.query_count} queries in "
                  f"{(ev.finished_at - ev.started_at).total_seconds():.2f} s; "
                  f"stored in {c.settings.store_url}[/dim]")
    if unreachable:
        err.print(f"[bold red]Prometheus unreachable[/]: {ev.problems[0] if ev.problems else ''}")
        raise typer.Exit(EXIT_BACKEND)
    raise typer.Exit(exit_for(ev, fail_on))


def _tracing(settings: Settings) -> Tracing | None:
    """The SDK exporting this command's spans when telemetry.otlp_endpoint is set, else None.

    Imported here: the SDK (the serve extra) is loaded only when traces are exported.
    """
    if settings.telemetry.otlp_endpoint is None:
        return None
    with needs("serve", "self-tracing (telemetry.otlp_endpoint)"):
        from sloctl.runtime.telemetry import install_tracing
    return install_tracing(settings)


def _serving_lines(daemon: Daemon) -> list[str]:
    """Where ``serve`` evaluates, listens, sends alerts and traces."""
    settings = daemon.settings
    lines = [f"sloctl serve: {len(daemon.specs)} SLOs every {daemon.interval} s against "
             f"{settings.prometheus.url}; store {settings.store_url}"]
    if daemon.http_url is not None:
        hook = "on" if settings.receiver.token else "off (set SLOCTL_RECEIVER_TOKEN)"
        lines.append(f"  HTTP {daemon.http_url}: /metrics, /healthz, /readyz, Alertmanager "
                     f"webhook /api/v1/alertmanager ({hook})")
    if daemon.leadership is not None:
        lines.append(f"  replica {daemon.leadership.replica}: {daemon.leadership.role} "
                     f"({daemon.leadership.backend})")
    if daemon.notifier is not None:
        lines.append(f"  sending alerts to Alertmanager {settings.alertmanager.url}")
    if daemon.tracing.enabled:
        lines.append(f"  traces to {daemon.tracing.endpoint}")
    lines.append("Ctrl-C or SIGTERM stops.")
    return lines


def _say(line: str, json_logs: bool) -> None:
    """A line for the operator: a log record when logs are JSON (every line an object)."""
    if json_logs:
        log.info("%s", line.strip())
    else:
        err.print(line)


def serve_command(
    ctx: typer.Context,
    spec: SpecOption = None,
    interval: Annotated[int | None, typer.Option(
        help="Seconds between cycles (default: settings interval_seconds, 60).")] = None,
    upgrade_db: Annotated[bool, typer.Option(
        "--upgrade-db", help="Upgrade the store's schema first (as `sloctl db upgrade`): for "
        "a new PostgreSQL database, or a store written by an older sloctl.")] = False,
) -> None:
    """Evaluate every interval until Ctrl-C or SIGTERM, storing every result.

    One cycle runs at a time; missed cycles are coalesced; a failing backend makes values
    unknown for that cycle and the next cycle recovers. On a PostgreSQL store any number of
    serve processes may run: one, elected, evaluates, notifies, prunes and sends the weekly
    report; all of them accept webhooks. Also serves HTTP on the receiver address (default
    127.0.0.1:9464): /metrics for Prometheus and Grafana, /healthz, /readyz, and the
    Alertmanager webhook (bearer token SLOCTL_RECEIVER_TOKEN); sends its own alerts to
    Alertmanager when SLOCTL_ALERTMANAGER_URL is set; exports its own traces over OTLP when
    SLOCTL_OTLP_ENDPOINT is set. Stop with Ctrl-C or SIGTERM: the running cycle completes first
    (or is abandoned, unstored, after 5 s), then everything closes within a few seconds.
    """
    require("serve", "`sloctl serve`")
    c = get_ctx(ctx.obj)
    if spec:
        c.spec_paths = spec
    settings = c.settings
    # imported here: the HTTP server and the scheduler load only for `serve`
    from sloctl.runtime.daemon import Daemon
    from sloctl.runtime.leadership import replica_id
    from sloctl.runtime.logs import configure_logging, set_context

    configure_logging(settings.log_level, settings.log_format)  # guarded: secrets masked
    json_logs = settings.log_format == "json"
    set_context(replica=replica_id())

    if upgrade_db:
        from sloctl.store import Store

        Store(settings.store_url, upgrade=True).close()
    from sloctl.runtime.sdnotify import notify

    daemon = Daemon(settings, c.specs(), interval=interval)

    def ready() -> None:
        for line in _serving_lines(daemon):
            _say(line, json_logs)
        notify("READY=1\nSTATUS=serving")  # systemd Type=notify (packaging/sloctl.service)

    try:
        # SIGTERM and SIGINT stop gracefully from before the start: /healthz answers during it
        daemon.run_until_stopped(ready=ready)
    finally:
        notify("STOPPING=1")
        daemon.stop()  # idempotent; covers a Ctrl-C before the signal handlers were in place
    _say("sloctl serve: stopped", json_logs)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("serve")(serve_command)


__all__ = ["Path", "register"]
