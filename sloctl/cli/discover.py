"""``sloctl discover``: what a Prometheus holds (conventions, services, identities, bucket
bounds), and a starter spec that works on it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import get_ctx
from sloctl.cli.timespec import TIME_HELP, parse_at
from sloctl.discover.bounds import format_seconds
from sloctl.discover.conventions import describe_conventions
from sloctl.discover.fetch import Reader, Span
from sloctl.discover.fixes import bucket_fix
from sloctl.discover.identity import IdentityKind
from sloctl.discover.model import Discovery, Finding, bounds_text, discovery_json
from sloctl.discover.scan import discover
from sloctl.discover.starter import starter_spec
from sloctl.errors import EXIT_NO_DATA, EXIT_USAGE
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.durations import DURATION_HELP, THRESHOLD_HELP, parse_duration, parse_threshold
from sloctl.spec.models import TARGET_INFO
from sloctl.spec.presets import DEFAULT_LATENCY_THRESHOLD

HELP = (
    "Read a Prometheus and tell, per service, which metric conventions it exports, where its "
    "service name lives, and the bucket bounds of its latency histograms; write a starter spec "
    "that works on that Prometheus.\n\n"
    "Conventions looked for: OpenTelemetry HTTP semconv (http_server_request_duration_seconds) "
    "and its older form (http_server_duration_milliseconds), classic client libraries "
    "(http_requests_total, http_request_duration_seconds), OpenTelemetry gRPC "
    "(rpc_server_call_duration_seconds, rpc_server_duration_milliseconds) and the collector's "
    "spanmetrics connector (traces_span_metrics_ or no namespace, seconds or milliseconds).\n\n"
    "Service name: a service_name label on the series; else target_info{service_name} of the "
    "same (job, instance) (the OpenTelemetry SDK's Prometheus exporter, scraped directly); else "
    "job (classic clients, and Prometheus' OTLP receiver: job = service.namespace/service.name)."
    "\n\n"
    "Only series of those metric names seen in the --lookback before --at are read (metadata, "
    "label and series APIs with match[], and one group-by query per histogram).\n\n"
    "The starter spec has one ServiceSLOs document per (preset, service identity) with a "
    "latency threshold of 300ms (or --threshold). When the threshold is not a bucket bound, a "
    "comment says so and shows how to add the bound (SDK View, collector config).\n\n"
    "Exit codes: 0 found something, 2 bad option, 3 Prometheus unreachable, 4 none of the known "
    "metrics found.\n\n"
    "Examples:\n\n"
    "  sloctl discover                                   # table of services and bounds\n\n"
    "  sloctl discover --write rules/slos/starter.yaml   # and a starter spec\n\n"
    "  sloctl discover -o yaml --threshold 250ms         # the starter spec on stdout\n\n"
    "  sloctl discover -o json --at -2h --lookback 6h    # for scripts; an earlier range"
)

out = fmt.SafeConsole(highlight=False, soft_wrap=True)
err = fmt.SafeConsole(stderr=True, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``discover`` command to ``app``."""
    app.command("discover", help=HELP)(discover_command)


def _threshold(value: str) -> float:
    try:
        return parse_threshold(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _lookback(value: str) -> int:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def discover_command(
    ctx: typer.Context,
    output: Annotated[str, typer.Option(
        "--output", "-o", help="table, json, or yaml (the starter spec on stdout).")] = "table",
    write: Annotated[Path | None, typer.Option(
        "--write", "-w", help="Write the starter spec to this file.", show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite the --write file if it exists.")] = False,
    threshold: Annotated[str, typer.Option(
        "--threshold", help=f"Latency threshold checked against the bounds and written in the "
        f"starter spec; {THRESHOLD_HELP}.")] = format_seconds(DEFAULT_LATENCY_THRESHOLD),
    at: Annotated[str | None, typer.Option(
        "--at", help=f"End of the range looked at (default now): {TIME_HELP}.")
    ] = None,
    lookback: Annotated[str, typer.Option(
        "--lookback", help=f"How far before --at series count; {DURATION_HELP}.")
    ] = "1h",
) -> None:
    if output not in ("table", "json", "yaml"):
        raise typer.BadParameter(f"unknown output {output!r}; use table, json or yaml",
                                 param_hint="--output")
    if write is not None and write.exists() and not force:
        err.print(f"[red]error:[/] {escape(str(write))} exists; pass --force to overwrite it")
        raise typer.Exit(EXIT_USAGE)
    c = get_ctx(ctx.obj)
    settings = c.settings
    span = Span(parse_at(at, now=c.now, tz=c.tz) or c.now, _lookback(lookback))
    source = PrometheusSource(settings.prometheus)
    try:
        found = discover(Reader(source, span), _threshold(threshold))
    finally:
        source.close()
    if found.empty:
        _nothing_found(found)
        raise typer.Exit(EXIT_NO_DATA)
    spec_text = starter_spec(found)
    if write is not None:
        write.parent.mkdir(parents=True, exist_ok=True)
        write.write_text(spec_text, encoding="utf-8")
    if output == "json":
        fmt.write_json(discovery_json(found))
    elif output == "yaml":
        typer.echo(spec_text, nl=False)
    else:
        _print_table(found, hint=write is None)
    if write is not None:
        err.print(f"wrote {escape(str(write))}; check it with: sloctl validate --live "
                  f"{escape(str(write))}")


def _identity(f: Finding) -> str:
    """``target_info``, ``label service_name`` or ``label job``."""
    if f.identity is IdentityKind.TARGET_INFO:
        return f"{TARGET_INFO} join"
    return f"label {f.label}"


def _nothing_found(d: Discovery) -> None:
    start = (d.at.timestamp() - d.lookback)
    err.print(
        f"[red]no known metrics[/] in {escape(d.url)} between "
        f"{fmt.when(datetime.fromtimestamp(start, UTC))} and {fmt.when(d.at)}.\n"
        "Looked for (histogram, counter):\n" + escape(describe_conventions()) + "\n"
        "If the data is older, pass --at and --lookback; if your services export other names, "
        "write SLO documents with ratio/latency indicators by hand (README, \"SLO specs\")."
    )


def _print_table(d: Discovery, *, hint: bool) -> None:
    start = datetime.fromtimestamp(d.at.timestamp() - d.lookback, UTC)
    out.print(f"Prometheus {escape(d.url)}: series between {fmt.when(start)} and "
              f"{fmt.when(d.at)}", markup=True)
    limit = format_seconds(d.threshold)
    table = Table("service", "convention", "service name from", "bucket bounds",
                  f"{limit} a bound?")
    for col in table.columns[:3]:
        col.no_wrap = True
    for f in d.findings:
        check = f.check
        verdict = "-" if check is None else (
            f'[green]yes[/] le="{escape(check.matching[0])}"' if check.ok else "[red]no[/]")
        bounds = "-" if check is None else f"{bounds_text(check)} ({check.unit_name})"
        table.add_row(escape(f.service), f.convention.key, escape(_identity(f)), bounds, verdict)
    out.print(table)
    for seen in d.conventions:
        if seen.unnamed:
            where = "; ".join(str(t) for t in seen.unnamed[:5])
            out.print(f"[yellow]{seen.convention.key}: series of {len(seen.unnamed)} target(s) "
                      f"name no service[/] ({escape(where)}): no service_name label, no "
                      "target_info with service_name, no job.")
    shown: set[str] = set()
    for f in d.findings:
        if f.check is None or f.check.ok or f.check.metric in shown:
            continue
        shown.add(f.check.metric)
        services = [g.service for g in d.findings if g.check is not None and not g.check.ok
                    and g.check.metric == f.check.metric]
        out.print(f"\n[yellow]{limit} is not a bucket bound of {f.check.metric}[/] for "
                  f"{escape(', '.join(services))}: sloctl interpolates (flagged) and `sloctl "
                  "rules generate` refuses it.")
        fix = bucket_fix(f.check.metric, f.check.unit, f.check.bounds, f.check.threshold)
        out.print(escape(str(fix)), markup=True)
    if hint:
        out.print("\nStarter spec: sloctl discover --write rules/slos/starter.yaml "
                  "(or -o yaml); then sloctl validate --live FILE")
