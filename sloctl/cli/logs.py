"""`sloctl logs SERVICE`: a service's recent log lines from Loki, newest first."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.cli.timespec import SINCE_HELP, UntilOption, parse_range
from sloctl.runtime import correlate
from sloctl.sources import logql
from sloctl.sources.loki import LogEntry, LokiSource

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)

# Common spellings of an error level in a log line: level=error, "level":"ERROR", severity: fatal.
ERROR_REGEX = r'(?i)\b(level|lvl|severity)"?\s*[=:]\s*"?(error|err|fatal|critical|crit)\b'


def logs_command(
    ctx: typer.Context,
    service: Annotated[
        str,
        typer.Argument(
            help="The service, as its Loki label value (label: settings loki.service_label, "
            "default service_name)."
        ),
    ],
    errors: Annotated[
        bool,
        typer.Option(
            "--errors",
            help='Only error lines (level=error, "level":"error", severity: fatal, ...).',
        ),
    ] = False,
    trace: Annotated[
        str | None,
        typer.Option(
            "--trace",
            help="Only lines carrying this trace id (32 or 16 hex), in the line text "
            "or as trace_id structured metadata.",
        ),
    ] = None,
    correlation_id: Annotated[
        str | None, typer.Option("--correlation-id", help="Only lines containing this id verbatim.")
    ] = None,
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "1h",
    until: UntilOption = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=1,
            max=100_000,
            help="At most this many lines (paged past Loki's 5000 per request).",
        ),
    ] = 100,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Recent log lines of SERVICE from Loki, newest first: time, labels, line.

    Examples: sloctl logs checkout --errors --since 30m; sloctl logs checkout --trace
    4bf92f3577b34da6a3ce929d0e0e4736 -o json. Exits 3 when Loki is unreachable
    (settings loki.url, SLOCTL_LOKI_URL; tenant: loki.tenant, SLOCTL_LOKI_TENANT).
    """
    c = get_ctx(ctx.obj)
    settings = c.settings.loki
    window = parse_range(since, until, now=c.now, tz=c.tz, default_since="1h")
    filters: list[tuple[logql.LineOp, str]] = [("|~", ERROR_REGEX)] if errors else []
    label = settings.service_label
    try:
        if trace is not None and correlation_id is not None:
            raise ValueError("pass --trace or --correlation-id, not both")
        if trace is not None:
            queries = correlate.trace_queries(label, service, trace, filters)
        elif correlation_id is not None:
            queries = correlate.correlation_queries(label, service, correlation_id, filters)
        else:
            queries = [logql.log_query(logql.service_matchers(label, [service]), filters)]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    span = correlate.TimeRange(window.since, window.until)
    with LokiSource(settings) as source:
        entries = correlate.merged_entries(source, queries, span, limit + 1)
    truncated = len(entries) > limit
    entries = entries[:limit]
    if output == OutputFormat.json:
        fmt.write_json(_as_json(service, queries, span, entries, truncated))
        return
    if not entries:
        err.print(
            f"No log lines for {label}={service!r} ({window.label})"
            f"{' matching the filters' if errors or trace or correlation_id else ''}."
        )
        return
    out.print(_table(entries, label))
    if truncated:
        err.print(
            f"[yellow]Showing the newest {limit} lines;[/] raise --limit to see more, or "
            "narrow --since."
        )


def _labels_text(entry: LogEntry, service_label: str) -> str:
    shown = {**entry.labels, **entry.structured_metadata}
    return " ".join(f"{k}={v}" for k, v in sorted(shown.items()) if k != service_label)


def _table(entries: list[LogEntry], service_label: str) -> Table:
    t = Table(header_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    t.add_column("time (UTC)", no_wrap=True)
    t.add_column("labels", style="dim")
    t.add_column("line")
    for e in entries:
        t.add_row(_when(e), escape(_labels_text(e, service_label)), escape(e.line))
    return t


def _when(entry: LogEntry) -> str:
    return entry.time.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _as_json(
    service: str,
    queries: list[str],
    span: correlate.TimeRange,
    entries: list[LogEntry],
    truncated: bool,
) -> dict[str, Any]:
    return {
        "service": service,
        "queries": queries,
        "start": span.start.isoformat(),
        "end": span.end.isoformat(),
        "truncated": truncated,
        "entries": [
            {
                "time": e.time.isoformat(),
                "ns": str(e.ns),
                "labels": dict(e.labels),
                "structured_metadata": dict(e.structured_metadata),
                "line": e.line,
            }
            for e in entries
        ],
    }


def register(app: typer.Typer) -> None:
    """Add `logs` to the CLI."""
    app.command("logs")(logs_command)
