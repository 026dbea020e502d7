"""`sloctl deploy list`: stored deployments, newest first, streamed (``--limit``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.cli.output import write_json_stream
from sloctl.dora.model import Deployment

out = fmt.SafeConsole()
LimitOption = Annotated[int, typer.Option(
    "--limit", "-n", min=0, help="Show the newest N only (0: all; JSON streams any number).")]


def deployment_doc(d: Deployment) -> dict[str, Any]:
    """One deployment in the native event's field names."""
    return {
        "service": d.service, "environment": d.environment, "version": d.version,
        "commit_sha": d.sha, "commit_time": d.commit_time, "started_at": d.started,
        "finished_at": d.finished, "status": d.status.value, "ref": d.ref,
        "commits": [{"sha": c.sha, "time": c.time} for c in d.commits],
    }


def list_command(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    limit: LimitOption = 100,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Stored deployments, newest finish first: the newest --limit (100; 0 for all). JSON is
    written as the store yields the rows, so any number streams in constant memory."""
    reads = get_ctx(ctx.obj).reader.deployments
    rows = reads.iter_recent(limit or None, service)
    if output == OutputFormat.json:
        write_json_stream(deployment_doc(d) for d in rows)
        return
    t = Table(title="Deployments, newest first", header_style="bold", box=box.SIMPLE_HEAD)
    for col in ("finished", "service", "environment", "version", "status", "sha", "ref"):
        t.add_column(col, no_wrap=col != "ref")
    for d in rows:
        t.add_row(fmt.when(d.finished), d.service, d.environment, d.version, d.status.value,
                  d.sha[:12], d.ref)
    if not t.rows:
        out.print("[yellow]No deployment stored.[/] Record them with sloctl deploy record "
                  "or POST /api/v1/deployments.")
        return
    out.print(t)
    if limit and len(t.rows) == limit:
        out.print(f"[dim]the newest {limit}; --limit 0 shows all[/]")
