"""`sloctl status`, `sloctl slo show NAME` and `sloctl signals [SERVICE]`: read the store."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sloctl.cli import fmt, views
from sloctl.cli.common import FailOn, OutputFormat, SpecOption, exit_for, get_ctx
from sloctl.cli.completion import complete_slo_id
from sloctl.cli.freshness import Freshness, MaxAgeOption, exit_code, warning
from sloctl.cli.output import Format, ReadOutputOption, emit
from sloctl.cli.timespec import AtOption, parse_at
from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal, SignalValue
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import window_name
from sloctl.errors import EXIT_USAGE

if TYPE_CHECKING:  # the store is imported when a command reads it
    from sloctl.store.traces import ExemplarRecord, TraceFindings

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)

STATUS_WINDOWS = (3600, 21600, 86400, 259200)


def evaluation_at(ctx: typer.Context, at: str | None) -> tuple[Evaluation, datetime]:
    """The latest evaluation, or with ``--at`` the latest at or before it; and the instant
    its age counts from (now, or ``--at``)."""
    c = get_ctx(ctx.obj)
    when = parse_at(at, now=c.now, tz=c.tz)
    reads = c.reader.evaluations
    ev = reads.latest() if when is None else reads.at(when)
    if ev is None:
        if when is None or reads.latest() is None:
            err.print("[yellow]The store holds no evaluation yet.[/] Run [bold]sloctl eval[/] "
                      "once, or [bold]sloctl serve[/] to evaluate every interval.")
        else:
            err.print(f"[yellow]The store holds no evaluation at or before {fmt.when(when)}.[/] "
                      "Give a later --at, or backfill with [bold]sloctl eval --at[/].")
        raise typer.Exit(EXIT_USAGE)
    return ev, when or c.now


def _fresh(ctx: typer.Context, ev: Evaluation, reference: datetime,
           max_age: str | None, output: Format) -> Freshness:
    """The data's age; said on stderr for tables (the other formats carry it)."""
    fresh = get_ctx(ctx.obj).freshness(ev.at, max_age, reference)
    if output is Format.table or fresh.stale:
        err.print(warning(fresh))
    return fresh


def _alert_state(ev: Evaluation, slo_id: str) -> AlertState:
    states = [a.state for a in ev.alerts if a.slo_id == slo_id]
    for s in (AlertState.FIRING, AlertState.PENDING, AlertState.RESOLVED):
        if s in states:
            return s
    return AlertState.INACTIVE


def period_name(s: SLOStatus) -> str:
    """'28d' for a rolling window; 'month' for a calendar month (its elapsed part is queried)."""
    return window_name(s.period) if s.period_elapsed == s.period else "month"


def slo_table(ev: Evaluation) -> Table:
    """The status table: one row per SLO."""
    t = Table(title=f"SLOs at {fmt.when(ev.at)}", header_style="bold", box=box.SIMPLE_HEAD,
              padding=(0, 1), collapse_padding=True, pad_edge=False,
              caption="budget: share of the error budget left; 1h..3d: burn rates "
              "(1 = spending exactly the budget)", caption_justify="left")
    t.add_column("SLO", no_wrap=True)
    t.add_column("target", justify="right", no_wrap=True)
    t.add_column("SLI", justify="right", no_wrap=True)
    t.add_column("budget", justify="right", no_wrap=True)
    t.add_column("left", justify="right", no_wrap=True)
    for w in STATUS_WINDOWS:
        t.add_column(window_name(w), justify="right", no_wrap=True)
    t.add_column("alert", no_wrap=True)
    for s in ev.slos:
        sli_style = "dim" if s.sli is None else ("red" if s.breaching else "green")
        sli = "[bold red]no data[/]" if s.no_data else f"[{sli_style}]{fmt.pct(s.sli)}[/]"
        cells = [
            s.slo_id,
            f"{s.objective * 100:g}% {period_name(s)}",
            sli,
            f"[{fmt.budget_style(s.budget_remaining)}]{fmt.pct(s.budget_remaining, 1)}[/]",
            fmt.minutes(s.budget_remaining_minutes),
        ]
        for w in STATUS_WINDOWS:
            wr = s.window(w)
            burn = wr.burn_rate if wr else None
            cells.append(f"[{fmt.burn_style(burn)}]{fmt.num(burn)}[/]")
        state = _alert_state(ev, s.slo_id)
        cells.append(f"[{fmt.STATE_STYLE[state]}]{state.value}[/]")
        t.add_row(*cells)
    return t


def alerts_table(ev: Evaluation) -> Table | None:
    active = [a for a in ev.alerts if a.state != AlertState.INACTIVE]
    if not active:
        return None
    t = Table(title="Alerts", header_style="bold")
    for col in ("alert", "service", "severity", "state", "value", "threshold", "since"):
        t.add_column(col)
    for a in active:
        is_latency = a.rule == "latency_p95"
        value = fmt.seconds_ms(a.value) if is_latency else (
            fmt.pct(a.value) if a.rule == "error_ratio" else fmt.num(a.value))
        thr = fmt.seconds_ms(a.threshold) if is_latency else (
            fmt.pct(a.threshold) if a.rule == "error_ratio" else f"{a.threshold:g}x")
        t.add_row(a.key, a.service, a.severity, f"[{fmt.STATE_STYLE[a.state]}]{a.state.value}[/]",
                  value, thr, fmt.when(a.active_since))
    return t


def show_evaluation(ev: Evaluation, output: OutputFormat) -> None:
    """Print an evaluation as tables or JSON."""
    if output == OutputFormat.json:
        fmt.write_json(ev)
        return
    out.print(slo_table(ev))
    at = alerts_table(ev)
    if at is not None:
        out.print(at)
    for s in ev.slos:
        if s.reason:
            out.print(f"[dim]{s.slo_id}: unknown values: {s.reason}[/]")
    for p in ev.problems:
        if p in ev.notes:
            err.print(f"[dim]{escape(p)}[/]")
        else:
            err.print(f"[yellow]problem:[/] {escape(p)}")


def status_command(
    ctx: typer.Context,
    service: Annotated[list[str] | None, typer.Option(
        "--service", help="Only this service (repeatable).", show_default=False)] = None,
    team: Annotated[str | None, typer.Option(
        "--team", help="Only the SLOs whose spec has the label team=TEAM (and their services).",
        show_default=False)] = None,
    at: AtOption = None,
    output: ReadOutputOption = Format.table,
    fail_on: FailOn = None,
    max_age: MaxAgeOption = None,
    spec: SpecOption = None,
) -> None:
    """Every SLO from the latest evaluation (or --at an instant): objective, SLI, budget left,
    burn rates, alerts.

    Reads the store (fast; run `sloctl serve` or `sloctl eval` to fill it); --at shows the
    evaluation in effect at a past instant. Colours: green healthy, yellow burning faster than
    budgeted, red breaching or firing. Says how old the data is, and exits 5 when the last
    evaluation is older than --max-age (default 3 evaluation intervals).
    Exit 1 with --fail-on when an SLO breaches or an alert fires; 4 when an SLO or a service's
    signals match no series at all ("no data"), 3 when the evaluation met backend errors.

    Examples:

      sloctl status --service payment

      sloctl status --team payments -o line

      sloctl status --at -2h -o json
    """
    if spec:
        get_ctx(ctx.obj).spec_paths = spec
    scope = resolve_scope(ctx, service or [], team)
    ev, reference = evaluation_at(ctx, at)
    ev = views.scoped(ev, scope)
    fresh = _fresh(ctx, ev, reference, max_age, output)
    emit(
        output,
        doc=lambda: views.with_freshness(views.plain(ev), fresh),
        rows=lambda: [views.slo_row(s, ev) for s in ev.slos],
        line=lambda: views.status_line(ev, fresh),
        table=lambda: show_evaluation(ev, OutputFormat.table),
    )
    raise typer.Exit(exit_code(fresh, exit_for(ev, fail_on)))


def resolve_scope(ctx: typer.Context, services: list[str], team: str | None) -> views.Scope:
    """``--service``/``--team`` as a scope; an unknown service or team is an error naming the
    known ones. A team is the ``team`` label of the specs (settings ``specs`` or ``--spec``)."""
    if not services and team is None:
        return views.Scope()
    c = get_ctx(ctx.obj)
    wanted = frozenset(services) if services else None
    if wanted is not None:
        known = set(c.reader.evaluations.services())
        unknown = sorted(wanted - known)
        if unknown:
            err.print(f"[red]Unknown service {', '.join(unknown)}.[/] Known: "
                      f"{', '.join(sorted(known)) or 'none (run sloctl eval)'}")
            raise typer.Exit(EXIT_USAGE)
    if team is None:
        return views.Scope(services=wanted)
    specs = c.specs()
    members = [s for s in specs if s.labels_dict.get("team") == team]
    if not members:
        teams = sorted({t for s in specs if (t := s.labels_dict.get("team"))})
        err.print(f"[red]No SLO spec has the label team={team}.[/] Teams in the specs: "
                  f"{', '.join(teams) or 'none (add labels: {team: ...} to the specs)'}")
        raise typer.Exit(EXIT_USAGE)
    team_services = frozenset(s.service for s in members)
    return views.Scope(
        services=team_services if wanted is None else team_services & wanted,
        slo_ids=frozenset(s.slo_id for s in members),
    )


def _find(ev: Evaluation, name: str) -> SLOStatus:
    matches = [s for s in ev.slos if name in (s.slo_id, s.name) or s.slo_id.endswith("/" + name)]
    if len(matches) == 1:
        return matches[0]
    ids = ", ".join(s.slo_id for s in ev.slos)
    what = "is ambiguous" if matches else "is not a known SLO"
    err.print(f"[red]{name!r} {what}.[/] Known SLOs: {ids or 'none'}. "
              "Use the full id SERVICE/NAME.")
    raise typer.Exit(EXIT_USAGE)


def slo_show_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="SLO id SERVICE/NAME, or a unique NAME.",
                                        autocompletion=complete_slo_id)],
    at: AtOption = None,
    output: ReadOutputOption = Format.table,
    max_age: MaxAgeOption = None,
) -> None:
    """One SLO in detail: SLI, burn rate and coverage per window, burn-rate alert decisions.

    Exits 5 when the last evaluation is older than --max-age (default 3 intervals).
    """
    ev, reference = evaluation_at(ctx, at)
    s = _find(ev, name)
    fresh = _fresh(ctx, ev, reference, max_age, output)
    emit(
        output,
        doc=lambda: views.with_freshness(views.plain(s), fresh),
        rows=lambda: views.window_rows(s),
        line=lambda: views.slo_line(s, fresh),
        table=lambda: _show_slo(ctx, ev, s),
    )
    raise typer.Exit(exit_code(fresh, 0))


def _show_slo(ctx: typer.Context, ev: Evaluation, s: SLOStatus) -> None:
    out.print(f"[bold]{s.slo_id}[/]  objective {fmt.pct(s.objective, 2)} over "
              f"{period_name(s)}  at {fmt.when(s.at)}")
    if s.budget_remaining is not None and s.budget_remaining <= 0:
        exhaustion = "[bold red]budget exhausted[/]"
    elif s.exhaustion_at:
        exhaustion = f"exhaustion projected {fmt.when(s.exhaustion_at)} at the 1h burn rate"
    else:
        exhaustion = "no exhaustion projected"
    out.print(f"SLI {fmt.pct(s.sli)}   budget left {fmt.pct(s.budget_remaining, 1)} "
              f"({fmt.minutes(s.budget_remaining_minutes)} of "
              f"{fmt.minutes(s.budget_total_minutes)})   {exhaustion}")
    t = Table(header_style="bold")
    for col in ("window", "SLI", "error ratio", "burn rate", "events", "bad", "coverage", "note"):
        t.add_column(col, justify="right" if col not in ("window", "note") else "left")
    for w in s.windows:
        note = "interpolated between buckets" if w.interpolated else (w.reason or "")
        t.add_row(window_name(w.window), fmt.pct(w.sli), fmt.pct(w.error_ratio, 4),
                  fmt.num(w.burn_rate), fmt.num(w.total, 0), fmt.num(w.bad, 0),
                  fmt.pct(w.coverage, 1), note)
    out.print(t)
    d = Table(title="Burn-rate alerts (SRE workbook)", header_style="bold")
    for col in ("severity", "long", "short", "factor", "long burn", "short burn", "firing"):
        d.add_column(col)
    for dec in s.decisions:
        firing = "unknown" if dec.firing is None else ("[bold red]yes[/]" if dec.firing else "no")
        d.add_row(dec.rule.severity.value, window_name(dec.rule.long_window),
                  window_name(dec.rule.short_window), f"{dec.rule.factor:g}",
                  fmt.num(dec.long_burn), fmt.num(dec.short_burn), firing)
    out.print(d)
    findings = trace_findings(ctx, ev)
    record = findings.exemplars_of(s.slo_id) if findings else None
    if record is not None:
        out.print(exemplar_table(record, "Exemplar traces"))
    print_trace_notes(findings, out, {s.service})


def trace_findings(ctx: typer.Context, ev: Evaluation) -> TraceFindings | None:
    """The trace step's findings stored for ``ev`` (None when it did not run)."""
    return get_ctx(ctx.obj).reader.traces.findings(ev.at)


def exemplar_table(record: ExemplarRecord, title: str) -> Table:
    """The slowest and the failing traces of one record, with their Jaeger UI links."""
    ex = record.exemplars
    t = Table(title=f"{title}: {ex.service}, {ex.start[:16].replace('T', ' ')} "
              f"to {ex.end[:16].replace('T', ' ')}Z", header_style="bold", box=box.SIMPLE_HEAD,
              pad_edge=False, title_justify="left")
    for col in ("exemplar", "root operation", "duration", "errors", "Jaeger UI"):
        t.add_column(col, justify="right" if col in ("duration", "errors") else "left",
                     no_wrap=col != "root operation", overflow="fold")
    for what, links in (("slowest", ex.slowest), ("failing", ex.failing)):
        for link in links:
            t.add_row(what, escape(f"{link.root_service}: {link.root_operation}"),
                      f"{link.duration_seconds * 1000:.1f} ms",
                      f"[red]{link.errors}[/]" if link.errors else "-", link.url)
    if not t.rows:
        t.caption = "Jaeger has no trace of this service in the window"
    return t


def print_trace_notes(findings: TraceFindings | None, console: Console,
                      services: set[str] | None = None) -> None:
    """HTTP/span-metrics disagreements (of ``services``, default all) and trace-step problems."""
    if findings is None:
        return
    for d in findings.disagreements:
        if services is None or d.service in services:
            console.print(f"[yellow]HTTP vs span metrics:[/] {escape(d.message)}")
    for p in findings.problems:
        console.print(f"[dim]traces: {escape(p)}[/]")


def show_trace_findings(findings: TraceFindings | None) -> None:
    """After `sloctl eval`: one line per exemplar set, then disagreements and problems (stderr)."""
    if findings is None:
        return
    for r in findings.exemplars:
        ex = r.exemplars
        err.print(f"[dim]exemplars of {escape(r.key)}: {len(ex.slowest)} slowest, "
                  f"{len(ex.failing)} failing traces of {escape(ex.service)} "
                  f"({'sloctl slo show' if r.kind == 'slo' else 'sloctl alerts'} shows them)[/]")
    print_trace_notes(findings, err)


def signals_command(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Argument(help="Only this service.")] = None,
    at: AtOption = None,
    output: ReadOutputOption = Format.table,
    max_age: MaxAgeOption = None,
) -> None:
    """Golden signals per service from the latest evaluation (5 m window).

    Exits 5 when the last evaluation is older than --max-age (default 3 intervals).
    """
    ev, reference = evaluation_at(ctx, at)
    values = [v for v in ev.signals if service is None or v.service == service]
    if service and not values:
        known = sorted({v.service for v in ev.signals})
        err.print(f"[red]No signals for service {service!r}.[/] Known: {', '.join(known)}")
        raise typer.Exit(EXIT_USAGE)
    fresh = _fresh(ctx, ev, reference, max_age, output)
    emit(
        output,
        doc=lambda: values,
        rows=lambda: views.signal_rows(values),
        line=lambda: views.signals_line(values, fresh),
        table=lambda: _signals_table(ctx, ev, values),
    )
    raise typer.Exit(exit_code(fresh, 0))


def _signals_table(ctx: typer.Context, ev: Evaluation, values: list[SignalValue]) -> None:
    t = Table(title=f"Golden signals at {fmt.when(ev.at)} (5m)", header_style="bold")
    for col in ("service", "traffic", "errors", "p50", "p95", "p99", "saturation"):
        t.add_column(col, justify="right" if col != "service" else "left")
    by_service: dict[str, dict[Signal, float | None]] = {}
    for v in values:
        by_service.setdefault(v.service, {})[v.signal] = v.value
    for svc, sig in sorted(by_service.items()):
        t.add_row(svc, f"{fmt.num(sig.get(Signal.TRAFFIC))} req/s",
                  fmt.pct(sig.get(Signal.ERROR_RATIO)),
                  fmt.seconds_ms(sig.get(Signal.LATENCY_P50)),
                  fmt.seconds_ms(sig.get(Signal.LATENCY_P95)),
                  fmt.seconds_ms(sig.get(Signal.LATENCY_P99)),
                  fmt.num(sig.get(Signal.SATURATION), 3))
    out.print(t)
    for v in values:
        if v.reason:
            out.print(f"[dim]{v.service} {v.signal.value}: {v.reason}[/]")
    print_trace_notes(trace_findings(ctx, ev), out, set(by_service))


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)
    app.command("signals")(signals_command)
