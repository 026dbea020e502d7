"""`sloctl slo list`, `sloctl slo show ID` and `sloctl slo history ID`: SLOs from the store."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from sloctl.cli import fmt, views
from sloctl.cli.common import get_ctx
from sloctl.cli.completion import complete_slo_id
from sloctl.cli.freshness import Freshness, MaxAgeOption, exit_code, warning
from sloctl.cli.output import Format, ReadOutputOption, emit
from sloctl.cli.status import evaluation_at, period_name, slo_show_command
from sloctl.cli.timespec import SINCE_HELP, UntilOption, parse_range
from sloctl.core.slo import SLOStatus
from sloctl.errors import EXIT_USAGE

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)

HISTORY_COLUMNS = ("sli", "sli_min", "budget_remaining", "budget_remaining_minutes",
                   "burn_rate_1h", "burn_rate_6h", "burn_rate_1d", "burn_rate_3d",
                   "burn_rate_period")


def list_command(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option("--service", help="Only this service.",
                                                show_default=False)] = None,
    output: ReadOutputOption = Format.table,
    max_age: MaxAgeOption = None,
) -> None:
    """Every SLO of the latest evaluation: id, service, objective, window, last SLI, when.

    SLOs the store evaluated earlier but not in the latest evaluation (removed from the specs)
    follow, marked "retired". Exits 5 when the last evaluation is older than --max-age.
    """
    c = get_ctx(ctx.obj)
    ev, reference = evaluation_at(ctx, None)
    current = [s for s in ev.slos if service is None or s.service == service]
    retired = [i for i in c.reader.evaluations.slo_ids()
               if i not in {s.slo_id for s in ev.slos}
               and (service is None or i.split("/", 1)[0] == service)]
    fresh = c.freshness(ev.at, max_age, reference)
    if output is Format.table or fresh.stale:
        err.print(warning(fresh))
    rows = [_list_row(s) for s in current] + [_retired_row(i) for i in retired]
    emit(
        output,
        doc=lambda: rows,
        rows=lambda: rows,
        line=lambda: _list_line(current, retired, fresh),
        table=lambda: out.print(_list_table(current, retired)),
    )
    raise typer.Exit(exit_code(fresh, 0))


def _list_row(s: SLOStatus) -> dict[str, Any]:
    return {"slo_id": s.slo_id, "service": s.service, "objective": s.objective,
            "window": period_name(s), "sli": s.sli, "breaching": s.breaching,
            "no_data": s.no_data, "evaluated_at": s.at, "retired": False}


def _retired_row(slo_id: str) -> dict[str, Any]:
    return {"slo_id": slo_id, "service": slo_id.split("/", 1)[0], "objective": None,
            "window": None, "sli": None, "breaching": None, "no_data": None,
            "evaluated_at": None, "retired": True}


def _list_line(current: list[SLOStatus], retired: list[str], fresh: Freshness) -> str:
    breaching = sum(bool(s.breaching) for s in current)
    extra = f", {len(retired)} retired" if retired else ""
    return f"{len(current)} SLOs ({breaching} breaching{extra}), {fresh.text()}"


def _list_table(current: list[SLOStatus], retired: list[str]) -> Table:
    t = Table(title="SLOs", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("SLO", "service", "objective", "window", "last SLI", "last evaluated"):
        t.add_column(col, justify="right" if col in ("objective", "last SLI") else "left",
                     no_wrap=True)
    for s in current:
        style = "dim" if s.sli is None else ("red" if s.breaching else "green")
        sli = "[bold red]no data[/]" if s.no_data else f"[{style}]{fmt.pct(s.sli)}[/]"
        t.add_row(s.slo_id, s.service, f"{s.objective * 100:g}%", period_name(s), sli,
                  fmt.when(s.at))
    for i in retired:
        t.add_row(f"[dim]{i}[/]", i.split("/", 1)[0], "-", "-", "-", "[dim]retired[/]")
    return t


def history_command(
    ctx: typer.Context,
    slo_id: Annotated[str, typer.Argument(
        metavar="ID", help="SLO id SERVICE/NAME, or a unique NAME.",
        autocompletion=complete_slo_id)],
    since: Annotated[str, typer.Option("--since", help=SINCE_HELP)] = "30d",
    until: UntilOption = None,
    points: Annotated[int, typer.Option(
        "--points", min=1, max=100_000,
        help="At most this many points: the range is cut into equal buckets and each shows "
        "its last evaluation.")] = 100,
    output: ReadOutputOption = Format.table,
    max_age: MaxAgeOption = None,
) -> None:
    """An SLO's SLI, budget left and burn rates over a range, from the store.

    Examples:

      sloctl slo history payment/availability --since 30d

      sloctl slo history availability --since 2026-11-01 --until 2026-11-08 -o csv

    Without --until, exits 5 when the last point is older than --max-age (default 3
    intervals).
    """
    c = get_ctx(ctx.obj)
    span = parse_range(since, until, now=c.now, tz=c.tz, default_since="30d")
    full_id = _resolve_id(ctx, slo_id)
    frame = c.reader.evaluations.slo_history(full_id, span.since, span.until, max_points=points)
    rows = [_history_row({str(k): v for k, v in r.items()}) for r in frame.to_dict("records")]
    fresh = None
    if rows:
        fresh = c.freshness(rows[-1]["at"], max_age, span.until)
        if output is Format.table or fresh.stale:
            err.print(warning(fresh))
    emit(
        output,
        doc=lambda: {"slo_id": full_id, "since": span.since, "until": span.until,
                     "points": rows, **(fresh.json() if fresh else {})},
        rows=lambda: [{"slo_id": full_id, **r} for r in rows],
        line=lambda: _history_line(full_id, span.since, rows, fresh),
        table=lambda: _history_table(full_id, span.since, span.until, rows),
    )
    raise typer.Exit(exit_code(fresh, 0))


def _resolve_id(ctx: typer.Context, text: str) -> str:
    ids = get_ctx(ctx.obj).reader.evaluations.slo_ids()
    matches = [i for i in ids if text == i or i.endswith("/" + text)]
    if len(matches) == 1:
        return matches[0]
    what = "is ambiguous" if matches else "is not an SLO the store knows"
    err.print(f"[red]{text!r} {what}.[/] Known SLOs: {', '.join(matches or ids) or 'none'}. "
              "Use the full id SERVICE/NAME.")
    raise typer.Exit(EXIT_USAGE)


def _history_row(record: dict[str, Any]) -> dict[str, Any]:
    """One point: its instant, tier (raw, hourly or daily roll-up), the values of its last
    evaluation and the lowest SLI of its bucket (``sli_min``)."""
    row: dict[str, Any] = {"at": record["at"].to_pydatetime(), "tier": record.get("tier", "raw")}
    for col in HISTORY_COLUMNS:
        value = record.get(col)
        row[col] = None if value is None or math.isnan(value) else float(value)
    return row


def _history_line(slo_id: str, since: datetime, rows: list[dict[str, Any]],
                  fresh: Freshness | None) -> str:
    if not rows:
        return f"{slo_id}: no evaluation since {fmt.when(since)}"
    slis = [r["sli_min"] for r in rows if r["sli_min"] is not None]
    low = f" (lowest {views.percent(min(slis))})" if slis else ""
    parts = [f"{slo_id} since {fmt.when(since)}: SLI {views.percent(rows[-1]['sli'])}{low}",
             f"budget left {views.percent(rows[-1]['budget_remaining'])}",
             f"{len(rows)} points"]
    if fresh is not None:
        parts.append(fresh.text())
    return ", ".join(parts)


def _history_table(slo_id: str, since: datetime, until: datetime,
                   rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print(f"No evaluation of {slo_id} between {fmt.when(since)} and {fmt.when(until)}.")
        return
    t = Table(title=f"{slo_id}, {fmt.when(since)} to {fmt.when(until)}", header_style="bold",
              box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("at", "tier", "SLI", "lowest", "budget", "left", "1h", "6h", "1d", "3d"):
        t.add_column(col, justify="left" if col in ("at", "tier") else "right", no_wrap=True)
    for r in rows:
        t.add_row(fmt.when(r["at"]), r["tier"], fmt.pct(r["sli"]), fmt.pct(r["sli_min"]),
                  f"[{fmt.budget_style(r['budget_remaining'])}]"
                  f"{fmt.pct(r['budget_remaining'], 1)}[/]",
                  fmt.minutes(r["budget_remaining_minutes"]),
                  *(f"[{fmt.burn_style(r[c])}]{fmt.num(r[c])}[/]" for c in
                    ("burn_rate_1h", "burn_rate_6h", "burn_rate_1d", "burn_rate_3d")))
    out.print(t)


def register(app: typer.Typer) -> None:
    """Add the ``slo`` group (list, show, history) to ``app``."""
    slo = typer.Typer(help="SLOs from the store: list, show one, its history.",
                      no_args_is_help=True)
    slo.command("list")(list_command)
    slo.command("show")(slo_show_command)
    slo.command("history")(history_command)
    app.add_typer(slo, name="slo")
