"""`sloctl traces SERVICE` and `sloctl deps`: recent traces and the service graph from Jaeger."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.core.spans import trace_summaries
from sloctl.runtime.exemplars import TraceLink, trace_link
from sloctl.sources.jaeger import JaegerSource
from sloctl.spec.durations import DURATION_HELP, parse_duration

out = Console()


def _seconds(value: str) -> int:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _since_help(default: str) -> str:
    return f"How far back to look (default {default}); {DURATION_HELP}."


def traces_command(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="Service name as Jaeger knows it.")],
    slow: Annotated[bool, typer.Option("--slow", help="Slowest traces first.")] = False,
    errors: Annotated[
        bool, typer.Option("--errors", help="Only traces with an error span in SERVICE.")
    ] = False,
    since: Annotated[str, typer.Option("--since", help=_since_help("1h"))] = "1h",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Traces to show.")] = 20,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Recent traces of SERVICE from Jaeger: root operation, start, duration, spans, errors.

    Newest first; --slow sorts by duration, --errors keeps failing traces. Each row links to
    the Jaeger UI (settings jaeger.ui_url, default jaeger.url). Exit 3 if Jaeger is unreachable.
    """
    if slow and errors:
        raise typer.BadParameter("use either --slow or --errors, not both")
    window = _seconds(since)
    end = datetime.now(UTC)
    depth = limit if not (slow or errors) else max(limit * 5, 100)
    with JaegerSource(get_ctx(ctx.obj).settings.jaeger) as jaeger:
        spans = jaeger.search(service, end - timedelta(seconds=window), end, limit=depth)
        summaries = trace_summaries(spans, service)
        if errors:
            summaries = [s for s in summaries if s.error_count > 0]
        if slow:
            summaries.sort(key=lambda s: (-s.duration_ns, s.trace_id))
        else:
            summaries.sort(key=lambda s: (-s.start_ns, s.trace_id))
        links = [trace_link(s, jaeger.trace_url(s.trace_id)) for s in summaries[:limit]]
    if output == OutputFormat.json:
        print(json.dumps([asdict(link) for link in links], indent=2))
        return
    if not links:
        what = "failing traces" if errors else "traces"
        out.print(
            f"No {what} of {service} in the last {since}. Check the service name "
            "(Jaeger's service list) or widen --since."
        )
        return
    out.print(_traces_table(service, since, links))


def _traces_table(service: str, since: str, links: list[TraceLink]) -> Table:
    t = Table(
        title=f"Traces of {service}, last {since}",
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
    since: Annotated[str, typer.Option("--since", help=_since_help("1d"))] = "1d",
    output: OutputOption = OutputFormat.table,
) -> None:
    """The service dependency graph from Jaeger: parent, child, calls (most calls first).

    Exit 3 if Jaeger is unreachable.
    """
    window = _seconds(since)
    with JaegerSource(get_ctx(ctx.obj).settings.jaeger) as jaeger:
        edges = jaeger.dependencies(datetime.now(UTC), window)
    if output == OutputFormat.json:
        print(json.dumps([asdict(e) for e in edges], indent=2))
        return
    if not edges:
        out.print(f"Jaeger reports no calls between services in the last {since}.")
        return
    t = Table(
        title=f"Service dependencies, last {since}",
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
