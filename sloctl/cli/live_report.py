"""Run the live spec checks (``validate --live``, ``rules generate``) and present their results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from sloctl.cli.timespec import TIME_HELP, parse_at
from sloctl.discover.fetch import Reader, Span
from sloctl.discover.live import LiveChecker, LiveResult, LiveStatus
from sloctl.errors import EXIT_NO_DATA, EXIT_OK, EXIT_USAGE
from sloctl.settings import Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.sources.promql import duration
from sloctl.spec.durations import DURATION_HELP, parse_duration
from sloctl.spec.models import SLOSpec

AtOption = Annotated[str | None, typer.Option(
    "--at", help=f"Live checks: end of the range looked at (default now): {TIME_HELP}.")]
LookbackOption = Annotated[str, typer.Option(
    "--lookback", help=f"Live checks: how far before --at series count; {DURATION_HELP}.")]

STYLE = {
    LiveStatus.OK: "green",
    LiveStatus.NO_DATA: "bold red",
    LiveStatus.NOT_A_BOUND: "bold red",
    LiveStatus.QUERY_ERROR: "bold red",
    LiveStatus.SKIPPED: "dim",
}
LABEL = {
    LiveStatus.OK: "ok",
    LiveStatus.NO_DATA: "NO DATA",
    LiveStatus.NOT_A_BOUND: "NOT A BOUND",
    LiveStatus.QUERY_ERROR: "QUERY ERROR",
    LiveStatus.SKIPPED: "skipped",
}


def span_of(at: str | None, lookback: str, *, now: datetime, tz: tzinfo) -> Span:
    """The checked range from the --at and --lookback options (naive times in ``tz``)."""
    try:
        seconds = parse_duration(lookback)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--lookback") from None
    return Span(parse_at(at, now=now, tz=tz) or now, seconds)


def run_live(
    settings: Settings, specs: Sequence[SLOSpec], span: Span, *, bounds_only: bool = False
) -> list[LiveResult]:
    """Check ``specs`` on settings' Prometheus; raises ``BackendError`` when it is unreachable."""
    source = PrometheusSource(settings.prometheus)
    try:
        return LiveChecker(Reader(source, span)).check(specs, bounds_only=bounds_only)
    finally:
        source.close()


def exit_code(results: Sequence[LiveResult]) -> int:
    """2 when a threshold is not a bound or a query fails (spec problems), else 4 when an SLO
    has no series, else 0."""
    statuses = {r.status for r in results}
    if statuses & {LiveStatus.NOT_A_BOUND, LiveStatus.QUERY_ERROR}:
        return EXIT_USAGE
    if LiveStatus.NO_DATA in statuses:
        return EXIT_NO_DATA
    return EXIT_OK


def print_results(console: Console, results: Sequence[LiveResult], url: str, span: Span,
                  *, quiet_ok: bool = False) -> None:
    """One line per SLO (``quiet_ok``: problems only), then each distinct fix once."""
    console.print(f"Live checks on {escape(url)} (series in the {duration(span.lookback)} "
                  f"before {span.at.strftime('%Y-%m-%d %H:%M:%SZ')}):", markup=True)
    for r in results:
        if quiet_ok and not r.problem:
            continue
        where = f"{r.spec.source}:{r.spec.line}" if r.spec.line else r.spec.source
        console.print(
            f"  [{STYLE[r.status]}]{LABEL[r.status]}[/] {escape(r.spec.slo_id)} "
            f"({escape(where)}): {escape(r.message)}", markup=True,
        )
    print_fixes(console, results)


def print_fixes(console: Console, results: Sequence[LiveResult]) -> None:
    """Each distinct bucket fix once."""
    shown: set[str] = set()
    for r in results:
        if r.fix and r.fix not in shown:
            shown.add(r.fix)
            console.print(f"\n[yellow]How to add the bound for {escape(r.spec.slo_id)}:[/]",
                          markup=True)
            console.print(r.fix, markup=False)


def results_json(results: Sequence[LiveResult], url: str, span: Span) -> dict[str, Any]:
    """The live results as JSON-ready values."""
    rows = []
    for r in results:
        row: dict[str, Any] = {"id": r.spec.slo_id, "status": r.status.value,
                               "message": r.message, "fix": r.fix or None}
        if r.check is not None:
            row["histogram"] = {
                "metric": r.check.metric, "unit": r.check.unit_name,
                "bounds": list(r.check.bounds), "le": list(r.check.spellings),
                "threshold_in_unit": r.check.bound, "threshold_le": list(r.check.matching),
            }
        rows.append(row)
    return {"prometheus": url, "at": span.at.isoformat(), "lookback_seconds": span.lookback,
            "results": rows}
