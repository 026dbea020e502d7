"""`sloctl maintenance`: windows whose events are left out of attainment and budget."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sloctl.cli.common import OutputFormat, OutputOption, get_ctx
from sloctl.cli.timespec import TimeSpecError, parse_time
from sloctl.core.maintenance import Maintenance
from sloctl.errors import EXIT_USAGE
from sloctl.spec.durations import parse_duration

out = Console()
err = Console(stderr=True)

TIMES = ("now, 2h / -2h (ago), +2h (from now), 2026-12-01T02:00 (settings timezone, default "
         "UTC), ...Z or +01:00, unix seconds")

app = typer.Typer(
    name="maintenance",
    no_args_is_help=True,
    help=(
        "Maintenance windows: their requests are left out of the SLOs' attainment and budget."
        "\n\nA planned outage should not spend the error budget. A window applies to one SLO "
        "(--slo), to every SLO of a service (--service) or to every SLO (--all). While it is in "
        "effect, each evaluation subtracts the events of the window's interval from every SLO "
        "window it touches and says so (\"note: ... min of maintenance left out\"); nothing is "
        "hidden. Windows stay on record: `remove` stops excluding one, `restore` excludes it "
        "again. Windows that belong to a spec are written in the spec instead "
        "(spec.maintenance: [{start, end, reason}])."
        "\n\nExamples:"
        "\n\n  sloctl maintenance add --service payment --start 2026-12-10T02:00Z "
        "--duration 1h --reason \"database upgrade\""
        "\n\n  sloctl maintenance add --slo order/availability --start -30m --end now "
        "--reason \"failover test\""
        "\n\n  sloctl maintenance list"
        "\n\n  sloctl maintenance remove 3"
    ),
)


@app.command("add")
def add_command(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--start", help=f"When it starts: {TIMES}.")],
    reason: Annotated[str, typer.Option("--reason", help="Why: shown with every exclusion.")],
    end: Annotated[str | None, typer.Option("--end", help=f"When it ends: {TIMES}.")] = None,
    duration: Annotated[str | None, typer.Option(
        "--duration", help="How long instead of --end, e.g. 1h or 30m.")] = None,
    service: Annotated[str | None, typer.Option(
        "--service", help="Every SLO of this service.")] = None,
    slo: Annotated[str | None, typer.Option("--slo", help="One SLO (service/name).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every SLO.")] = False,
    author: Annotated[str | None, typer.Option(
        "--author", help="Who (default: your user name).")] = None,
) -> None:
    """Record a maintenance window; evaluations from now on leave its events out."""
    if sum((service is not None, slo is not None, every)) != 1:
        err.print("say which SLOs the window is for: exactly one of --service, --slo or --all")
        raise typer.Exit(EXIT_USAGE)
    if (end is None) == (duration is None):
        err.print("say when it ends: exactly one of --end or --duration")
        raise typer.Exit(EXIT_USAGE)
    context = get_ctx(ctx.obj)
    tz = context.settings.tzinfo
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        begins = parse_time(start, now=now, tz=tz, option="--start")
        if end is not None:
            ends = parse_time(end, now=now, tz=tz, option="--end")
        else:
            assert duration is not None
            ends = begins + timedelta(seconds=parse_duration(duration))
        window = Maintenance(begins, ends, reason, service, slo)
    except (TimeSpecError, ValueError) as exc:
        err.print(escape(str(exc)))
        raise typer.Exit(EXIT_USAGE) from None
    stored = context.store.maintenance.add(window, author=author or _user(), now=now)
    out.print(f"maintenance window {stored.id}: {stored.scope}, {_span(stored)}: "
              f"{escape(stored.reason)}")


@app.command("list")
def list_command(
    ctx: typer.Context,
    removed: Annotated[bool, typer.Option(
        "--removed", help="Also the windows no longer excluded.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Every maintenance window on record (made with `maintenance add`), by start."""
    rows = get_ctx(ctx.obj).store.maintenance.listing(removed=removed)
    if output == OutputFormat.json:
        from sloctl.cli import fmt

        fmt.write_json(rows)
        return
    if not rows:
        out.print("No maintenance window on record.")
        return
    t = Table(title="Maintenance windows", header_style="bold", box=box.SIMPLE_HEAD)
    for col in ("id", "scope", "start", "end", "reason", "author", "state"):
        t.add_column(col, no_wrap=col not in ("reason",))
    for r in rows:
        scope = (f"slo {r['slo_id']}" if r["slo_id"] else
                 f"service {r['service']}" if r["service"] else "every SLO")
        state = "removed" if r["removed_at"] else "excluded"
        t.add_row(str(r["id"]), escape(scope), f"{r['starts_at']:%Y-%m-%d %H:%M}Z",
                  f"{r['ends_at']:%Y-%m-%d %H:%M}Z", escape(r["reason"]), escape(r["author"]),
                  state)
    out.print(t)


@app.command("remove")
def remove_command(ctx: typer.Context, window_id: Annotated[int, typer.Argument(
        help="The window's id (`sloctl maintenance list`).")]) -> None:
    """Stop excluding a window; it stays on record (`restore` undoes this)."""
    get_ctx(ctx.obj).store.maintenance.remove(window_id, now=datetime.now(UTC))
    out.print(f"maintenance window {window_id} removed: its events count again from the next "
              "evaluation")


@app.command("restore")
def restore_command(ctx: typer.Context, window_id: Annotated[int, typer.Argument(
        help="The window's id (`sloctl maintenance list --removed`).")]) -> None:
    """Exclude a removed window again."""
    get_ctx(ctx.obj).store.maintenance.restore(window_id)
    out.print(f"maintenance window {window_id} restored")


def _span(w: Maintenance) -> str:
    return f"{w.start:%Y-%m-%d %H:%M}Z .. {w.end:%Y-%m-%d %H:%M}Z"


def _user() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return "unknown"


def register(root: typer.Typer) -> None:
    root.add_typer(app)
