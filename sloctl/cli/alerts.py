"""`sloctl alerts`: alerts firing now, at an instant (--at), or during a range (--since/--until).

Two sources share one identity (the same alertname and labels, ``sloctl.core.alert_rules``):
alerts received on sloctl's webhook from Alertmanager, and sloctl's own alert states (the latest
evaluation, the evaluation in effect at --at, or the stored transitions of a range). A condition
that both Prometheus' rules and sloctl raise is one row whose ``sources`` lists both.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.alert_rows import Row, firing_at, firing_now, range_rows
from sloctl.cli.common import get_ctx
from sloctl.cli.freshness import Freshness, MaxAgeOption, exit_code, warning
from sloctl.cli.output import Format, ReadOutputOption, emit
from sloctl.cli.timespec import AtOption, SinceOption, TimeRange, UntilOption, parse_at, parse_range
from sloctl.errors import SloctlError

if TYPE_CHECKING:
    from sloctl.core.evaluation import Evaluation

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)


def alerts_command(
    ctx: typer.Context,
    at: AtOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    service: Annotated[str | None, typer.Option(
        "--service", help="Only this service's alerts.", show_default=False)] = None,
    output: ReadOutputOption = Format.table,
    max_age: MaxAgeOption = None,
    limit: Annotated[int, typer.Option(
        "--limit", "-n", min=0, help="The newest N rows only (0: all).")] = 0,
) -> None:
    """Alerts firing now (or --at an instant), newest first: one row per condition, with its
    sources; with --since/--until, every alert that fired during the range.

    Source "sloctl": sloctl's own alert states (the latest evaluation, or the one in effect
    then). Source "alertmanager (prometheus|sloctl)": alerts received on sloctl's webhook (POST
    /api/v1/alertmanager of `sloctl serve`), and who sent them last. Prometheus' generated rules
    and sloctl send the same alertname and labels, so one condition raised by both is one row
    (and one alert in Alertmanager). Exits 5 when the last evaluation is older than --max-age.

    Examples:

      sloctl alerts

      sloctl alerts --at 2026-11-20T14:00

      sloctl alerts --since 7d --service payment -o csv
    """
    c = get_ctx(ctx.obj)
    if at is not None and (since is not None or until is not None):
        raise SloctlError("give --at (one instant) or --since/--until (a range), not both")
    fresh: Freshness | None = None
    span: TimeRange | None = None
    fixed: list[Row] | None = None  # --at and ranges: read whole (their joins need every row)
    ev: Evaluation | None = None
    if since is not None or until is not None:
        span = parse_range(since, until, now=c.now, tz=c.tz, default_since="1d")
        fixed = range_rows(c, span)
        last = c.reader.evaluations.at(span.until)
        evaluated_at, reference = (last.at if last else None), span.until
    elif (when := parse_at(at, now=c.now, tz=c.tz)) is not None:
        fixed, evaluated_at = firing_at(c, when)
        reference = when
    else:  # now: streamed from the store, newest first
        ev = c.reader.evaluations.latest()
        evaluated_at, reference = (ev.at if ev else None), c.now
    store_limit = (limit or None) if service is None else None  # the newest N read, no more

    def selected() -> Iterator[Row]:
        listing = fixed if fixed is not None else firing_now(
            c.reader.alerts, ev, c.settings.dashboard_url, store_limit)
        chosen = (r for r in listing if service is None or r["service"] == service)
        return itertools.islice(chosen, limit or None)

    if evaluated_at is not None:
        fresh = c.freshness(evaluated_at, max_age, reference)
        if output is Format.table or fresh.stale:
            err.print(warning(fresh))
    emit(
        output,
        doc=lambda: list(selected()),
        stream=selected,
        rows=lambda: [_flat(r) for r in selected()],
        line=lambda: _line(list(selected()), span, fresh),
        table=lambda: _table(ctx, list(selected()), span),
    )
    raise typer.Exit(exit_code(fresh, 0))


def _flat(row: Row) -> Row:
    flat = {k: v for k, v in row.items() if k != "labels"}
    flat["labels"] = [f"{k}={v}" for k, v in sorted(row["labels"].items())]
    return flat


def _line(rows: list[Row], span: TimeRange | None, fresh: Freshness | None) -> str:
    named = ", ".join(f"{r['service']} {r['alert']}" for r in rows[:3]) + (
        ", ..." if len(rows) > 3 else "")
    if span is None:
        text = (f"{len(rows)} alert{'s' if len(rows) != 1 else ''} firing ({named})" if rows
                else "no alert firing")
    else:
        firing = sum(r["until"] is None for r in rows)
        text = (f"{len(rows)} alert{'s' if len(rows) != 1 else ''} ({span.label}; "
                f"{firing} still firing): {named}" if rows else f"no alert ({span.label})")
    return f"{text}, {fresh.text()}" if fresh is not None else text


def _table(ctx: typer.Context, rows: list[Row], span: TimeRange | None) -> None:
    if not rows:
        out.print("[green]No alert is firing.[/]" if span is None
                  else f"[green]No alert ({span.label}).[/]")
        return
    title = "Firing alerts" if span is None else f"Alerts, {span.label}"
    t = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD)
    columns = ["since", *([] if span is None else ["until"]), "alert", "service", "severity",
               "sources", "summary"]
    for col in columns:
        t.add_column(col, no_wrap=col != "summary")
    for r in rows:
        end = [] if span is None else [
            "[bold red]firing[/]" if r["until"] is None else fmt.when(r["until"])]
        t.add_row(fmt.when(r["since"]), *end, r["alert"], r["service"], r["severity"] or "-",
                  ", ".join(r["sources"]), r["summary"])
    out.print(t)
    if span is None:
        _print_exemplars(ctx, rows)


def _print_exemplars(ctx: typer.Context, rows: list[Row]) -> None:
    """Exemplar traces stored by the trace step for the firing alerts (by key, else service).

    Only findings of an evaluation at or after the alert started are shown.
    """
    from sloctl.cli.status import exemplar_table
    from sloctl.store.traces import ExemplarRecord

    findings = get_ctx(ctx.obj).reader.traces.latest()
    if findings is None:
        return
    groups: dict[tuple[str, str, str], tuple[ExemplarRecord, list[str]]] = {}
    for r in rows:
        if findings.at < r["since"]:
            continue
        record = findings.exemplars_of(r["key"]) if "key" in r else None
        if record is None:
            record = next(
                (x for x in findings.exemplars if x.exemplars.service == r["service"]), None
            )
        if record is not None:
            ex = record.exemplars
            group = groups.setdefault((ex.service, ex.start, ex.end), (record, []))
            group[1].append(f"{r['alert']} ({r['service']})")
    for record, names in groups.values():
        out.print(exemplar_table(record, "Exemplars of " + ", ".join(names)))


def register(app: typer.Typer) -> None:
    """Add the ``alerts`` command to ``app``."""
    app.command("alerts")(alerts_command)
