"""`sloctl traces SERVICE` and `sloctl deps`: operations from span metrics, traces from Jaeger.

Per-operation requests, errors and latency come from the span metrics in Prometheus (the
collector's span_metrics connector); Jaeger is read only for example traces (--slow, --errors)
and for the service graph.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.cli.timespec import SINCE_HELP, UNTIL_HELP, TimeRange, UntilOption, parse_range
from sloctl.core.span_metrics import OperationStats
from sloctl.core.spans import trace_summaries
from sloctl.runtime.exemplars import TraceLink, trace_link
from sloctl.settings import Settings
from sloctl.sources.jaeger import JaegerSource
from sloctl.sources.prometheus import PrometheusSource
from sloctl.sources.span_metrics import CALLS, operation_queries, operations_from_results

out = fmt.SafeConsole()


def traces_command(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="Service name (span metrics' service_name).")],
    slow: Annotated[
        bool, typer.Option("--slow", help="Also the slowest traces, from Jaeger.")
    ] = False,
    errors: Annotated[
        bool, typer.Option("--errors", help="Also traces with an error span in SERVICE (Jaeger).")
    ] = False,
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "1h",
    at: Annotated[
        str | None,
        typer.Option("--at", "--until", help=UNTIL_HELP),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Traces to show.")] = 20,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Operations of SERVICE from span metrics; with --slow or --errors, example traces too.

    Each operation (span name and kind) with its requests, errors and p50/p95/p99 latency over
    the window, from the collector's span metrics in Prometheus (busiest first). --slow adds the
    slowest traces and --errors the failing ones, from Jaeger, each with its Jaeger UI link
    (settings jaeger.ui_url, default jaeger.url). Exit 3 if Prometheus or Jaeger is unreachable.

    Examples:

      sloctl traces payment

      sloctl traces payment --slow --since 30m

      sloctl traces payment --errors --at 2026-11-20T14:00:00Z --output json
    """
    if slow and errors:
        raise typer.BadParameter("use either --slow or --errors, not both")
    c = get_ctx(ctx.obj)
    span = parse_range(since, at, now=c.now, tz=c.tz, default_since="1h", until_option="--at")
    window, end = max(1, int(span.seconds)), span.until
    settings = get_ctx(ctx.obj).settings
    operations = _operations(settings, service, window, end)
    links = _example_traces(settings, service, window, end, limit, errors) if slow or errors else []
    if output == OutputFormat.json:
        body: dict[str, Any] = {
            "service": service,
            "window_seconds": window,
            "end": end.isoformat(),
            "operations": [_operation_json(o) for o in operations],
        }
        if slow or errors:
            body["traces"] = [asdict(link) for link in links]
        fmt.write_json(body)
        return
    if operations:
        out.print(_operations_table(service, span.label, operations))
    else:
        out.print(
            f"No span metrics of {escape(service)} {_in(span)} ({CALLS}"
            f'{{service_name="{escape(service)}"}}). Check the service name, and that the '
            "collector's span_metrics connector (collector_config/) writes to this Prometheus."
        )
    if not (slow or errors):
        return
    if links:
        out.print(_traces_table(service, span.label, links))
    else:
        what = "failing traces" if errors else "traces"
        out.print(
            f"Jaeger has no {what} of {escape(service)} {_in(span)}. Check the service "
            "name (Jaeger's service list) or widen --since."
        )


def _operations(
    settings: Settings, service: str, window: int, end: datetime
) -> list[OperationStats]:
    source = PrometheusSource(settings.prometheus)
    try:
        results = source.query_many(operation_queries(service, window), end)
    finally:
        source.close()
    return operations_from_results(results, service, window)


def _example_traces(
    settings: Settings, service: str, window: int, end: datetime, limit: int, errors: bool
) -> list[TraceLink]:
    """The slowest (or, with ``errors``, the failing) traces of ``service`` from Jaeger."""
    with JaegerSource(settings.jaeger) as jaeger:
        spans = jaeger.search(
            service, end - timedelta(seconds=window), end, limit=max(limit * 5, 100)
        )
        summaries = trace_summaries(spans, service)
        if errors:
            summaries = [s for s in summaries if s.error_count > 0]
        summaries.sort(key=lambda s: (-s.duration_ns, s.trace_id))
        return [trace_link(s, jaeger.trace_url(s.trace_id)) for s in summaries[:limit]]


def _operation_json(o: OperationStats) -> dict[str, Any]:
    return {**asdict(o), "rate_per_second": o.rate_per_second, "error_ratio": o.error_ratio}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _in(span: TimeRange) -> str:
    """``in the last 1h``, ``in the 1h before <until>`` or ``between <since> and <until>``."""
    if " to " not in span.label:
        return f"in the {span.label}"
    return f"between {span.since:%Y-%m-%d %H:%M:%SZ} and {span.until:%Y-%m-%d %H:%M:%SZ}"


def _operations_table(service: str, since: str, operations: list[OperationStats]) -> Table:
    t = Table(
        title=f"Operations of {escape(service)}, {since} (span metrics)",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    t.add_column("operation")
    t.add_column("kind")
    for column in ("requests", "req/s", "errors", "error %", "p50", "p95", "p99"):
        t.add_column(column, justify="right", no_wrap=True)
    for o in operations:
        ratio = o.error_ratio or 0.0
        t.add_row(
            escape(o.operation),
            o.kind,
            f"{o.requests:,.0f}",
            f"{o.rate_per_second:.3g}",
            f"{o.errors:,.0f}",
            f"[red]{ratio:.2%}[/]" if ratio > 0 else "-",
            _ms(o.p50_seconds),
            _ms(o.p95_seconds),
            _ms(o.p99_seconds),
        )
    return t


def _traces_table(service: str, since: str, links: list[TraceLink]) -> Table:
    t = Table(
        title=f"Traces of {escape(service)}, {since} (Jaeger)",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column in ("trace id", "root operation", "start", "duration", "spans", "error", "link"):
        t.add_column(
            column,
            no_wrap=column != "link",
            justify="right" if column in ("duration", "spans") else "left",
        )
    for link in links:
        t.add_row(
            link.trace_id,
            f"{link.root_service}: {link.root_operation}",
            link.start[:19].replace("T", " ") + "Z",
            f"{link.duration_seconds * 1000:.1f} ms",
            str(link.spans),
            f"[red]{link.errors}[/]" if link.errors else "-",
            link.url,
        )
    return t


def deps_command(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "1d",
    until: UntilOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """The service dependency graph from Jaeger: parent, child, calls (most calls first).

    Exit 3 if Jaeger is unreachable.
    """
    c = get_ctx(ctx.obj)
    span = parse_range(since, until, now=c.now, tz=c.tz, default_since="1d")
    with JaegerSource(c.settings.jaeger) as jaeger:
        edges = jaeger.dependencies(span.until, max(1, int(span.seconds)))
    if output == OutputFormat.json:
        print(json.dumps([asdict(e) for e in edges], indent=2))
        return
    if not edges:
        out.print(f"Jaeger reports no calls between services {_in(span)}.")
        return
    t = Table(
        title=f"Service dependencies, {span.label}",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    t.add_column("parent")
    t.add_column("child")
    t.add_column("calls", justify="right")
    for e in edges:
        t.add_row(e.parent, e.child, f"{e.calls:,}")
    out.print(t)


def register(app: typer.Typer) -> None:
    app.command("traces")(traces_command)
    app.command("deps")(deps_command)
