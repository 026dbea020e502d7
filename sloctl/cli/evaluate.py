"""`sloctl eval` (one cycle now or at a past instant) and `sloctl serve` (every interval)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sloctl.cli import status as status_cmd
from sloctl.cli.common import FailOn, OutputFormat, OutputOption, SpecOption, exit_for, get_ctx
from sloctl.core.evaluation import Evaluation
from sloctl.errors import EXIT_BACKEND, SloctlError
from sloctl.runtime import trace_step
from sloctl.runtime.scheduler import CycleScheduler
from sloctl.spec.durations import parse_duration

err = Console(stderr=True)
log = logging.getLogger(__name__)

_RELATIVE = re.compile(r"^-\s*(.+)$")


def parse_at(text: str, now: datetime | None = None) -> datetime:
    """Parse --at: ISO 8601 (naive = UTC), unix seconds, or relative like '-2h' / '-1d12h'."""
    now = now or datetime.now(UTC)
    text = text.strip()
    m = _RELATIVE.match(text)
    try:
        if m:
            return now - timedelta(seconds=parse_duration(m.group(1)))
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), UTC)
        at = datetime.fromisoformat(text)
    except (ValueError, SloctlError) as exc:
        raise typer.BadParameter(
            f"cannot read time {text!r} ({exc}); use ISO 8601 like 2026-11-20T14:00:00Z, "
            "unix seconds, or a relative time like -2h"
        ) from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


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
        "--at", help="Evaluate as of this instant (ISO 8601, unix seconds, or -2h): every query "
        "uses this timestamp, so history can be backfilled and results reproduced.")] = None,
    output: OutputOption = OutputFormat.table,
    fail_on: FailOn = None,
    spec: SpecOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run one evaluation cycle now (or --at a past instant), store it, and show the status.

    Every SLO, golden signal and default alert rule is evaluated with one batch of concurrent
    Prometheus queries at a single timestamp. Exit codes: 0 ok, 1 --fail-on matched,
    2 usage or spec error, 3 Prometheus unreachable (with --fail-on: or answering errors),
    4 with --fail-on: an SLO or a service's signals match no series at all (no data).

    Examples:

      sloctl eval

      sloctl eval --at 2026-11-20T14:00:00Z --output json

      sloctl eval --at -6h --fail-on breach
    """
    c = get_ctx(ctx.obj)
    if spec:
        c.spec_paths = spec
    when = parse_at(at) if at else None
    ev, unreachable = _run_with_progress(ctx.obj, when, quiet or output != OutputFormat.table)
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


def serve_command(
    ctx: typer.Context,
    spec: SpecOption = None,
    interval: Annotated[int | None, typer.Option(
        help="Seconds between cycles (default: settings interval_seconds, 60).")] = None,
) -> None:
    """Evaluate every interval until Ctrl-C or SIGTERM, storing every result.

    One cycle runs at a time; missed cycles are coalesced; a failing backend makes values
    unknown for that cycle and the next cycle recovers. Also serves HTTP on the receiver
    address (default 127.0.0.1:9464): /metrics for Prometheus and Grafana, /healthz, and the
    Alertmanager webhook (bearer token SLOCTL_RECEIVER_TOKEN); sends its own alerts to
    Alertmanager when SLOCTL_ALERTMANAGER_URL is set. Stop with Ctrl-C: the running cycle
    completes first.
    """
    c = get_ctx(ctx.obj)
    if spec:
        c.spec_paths = spec
    settings = c.settings
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from sloctl.dora import job as dora_job
    from sloctl.dora.deploy_sources import DeployImportJob
    from sloctl.dora.incidents import load_dora_incidents
    from sloctl.runtime.alertmanager import notifier_from_settings
    from sloctl.runtime.http import HttpServer
    from sloctl.store.deployments import DeploymentStore
    from sloctl.telemetry import setup_telemetry

    telemetry = setup_telemetry(settings)
    evaluator, source = c.evaluator(telemetry)
    notifier = notifier_from_settings(settings)
    http = HttpServer(settings, c.store) if settings.receiver.enabled else None
    every = interval or settings.interval_seconds
    dora = dora_job.DoraJob(c.store.engine, settings, lambda: load_dora_incidents(
        c.store, settings, datetime.now(UTC)))
    deploy_import = DeployImportJob(settings, DeploymentStore(c.store.engine))

    def cycle() -> None:
        ev = evaluator.run_cycle()
        if notifier is not None:
            notifier.submit(ev)  # first, and never blocks: alerts must not wait for the rest
        trace_step.after_cycle(ev, settings, c.store)  # exemplars, span check; never raises
        dora.maybe_run()  # at most every 5 min; a store problem is logged, never raised
        deploy_import.maybe_run()  # Loki/Prometheus deployments (dora.sources); never raises
        firing = sum(1 for a in ev.alerts if a.state.value == "firing")
        log.info("evaluated %d SLOs, %d signals, %d alerts firing, %d problems in %.2f s",
                 len(ev.slos), len(ev.signals), firing, len(ev.problems),
                 (ev.finished_at - ev.started_at).total_seconds())
        for p in ev.problems:
            log.warning("problem: %s", p)

    def stop_all() -> None:
        if http is not None:
            http.stop()
        if notifier is not None:
            notifier.close()
        source.close()
        telemetry.shutdown()

    if http is not None:
        http.start()
    err.print(f"sloctl serve: {len(evaluator.specs)} SLOs every {every} s against "
              f"{settings.prometheus.url}; store {settings.store_url}")
    if http is not None:
        hook = "on" if settings.receiver.token else "off (set SLOCTL_RECEIVER_TOKEN)"
        err.print(f"  HTTP {http.url}: /metrics, /healthz, Alertmanager webhook "
                  f"/api/v1/alertmanager ({hook})")
    if notifier is not None:
        err.print(f"  sending alerts to Alertmanager {settings.alertmanager.url}")
    if telemetry.enabled:
        err.print(f"  traces to {settings.telemetry.otlp_endpoint}")
    err.print("Ctrl-C or SIGTERM stops.")
    CycleScheduler(cycle, every).run_forever(extra_stop=stop_all)
    err.print("sloctl serve: stopped")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("serve")(serve_command)


__all__ = ["Path", "parse_at", "register"]
