"""``sloctl validate PATH...``: check SLO spec files and list every problem with its line."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sloctl.cli.common import get_ctx
from sloctl.cli.live_report import (
    AtOption,
    LookbackOption,
    exit_code,
    print_results,
    results_json,
    run_live,
    span_of,
)
from sloctl.errors import EXIT_USAGE, SpecProblem
from sloctl.spec.loader import validate_paths
from sloctl.spec.models import HistogramLatency, LogRatio, MetricRatio, SLOSpec

HELP = (
    "Check SLO spec files offline and, with --live, against Prometheus.\n\n"
    "Checks YAML syntax, apiVersion (sloctl/v1) and kind (SLO, ServiceSLOs), unknown, missing "
    "and mistyped fields, objectives (a percentage strictly between 0 and 100), windows (28d, "
    "4w, calendar-month) and thresholds (300ms), label and metric names, indicator presets, raw "
    "PromQL templates (must contain {{window}}), and that SLO ids (service/name) are unique "
    "across all files. Folders are searched recursively for *.yaml and *.yml files.\n\n"
    "Every problem in every file is printed as FILE:LINE: FIELD: MESSAGE, and the exit code is "
    "then 2.\n\n"
    "--live then checks each SLO on the Prometheus of the settings (prometheus.url): its "
    "selector has series for the SLO's service, found the way the spec says (the service label, "
    "or target_info joined on job and instance), and each latency threshold is a bucket bound "
    "of the histogram in its unit, whatever the le spelling (0.3, 300, 300.0). When it is not, "
    "the bounds that exist are listed with the fix (an OpenTelemetry SDK View, the spanmetrics "
    "connector's buckets). Exit 2 for spec problems (offline, or a threshold that is not a "
    "bound), 4 when an SLO matches no series, 3 when Prometheus is unreachable.\n\n"
    "Example: sloctl validate rules/slos/ checkout.yaml --output json\n\n"
    "Live: sloctl validate --live rules/slos/ (or, for older data, --at -3h --lookback 6h)"
)


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to ``app``."""
    app.command("validate", help=HELP)(validate)


def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Spec files or folders (searched for *.yaml, *.yml).", show_default=False
        ),
    ],
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="Output format: text or json.")
    ] = OutputFormat.TEXT,
    live: Annotated[
        bool, typer.Option("--live", help="Also check the specs against Prometheus (settings).")
    ] = False,
    at: AtOption = None,
    lookback: LookbackOption = "1h",
) -> None:
    specs, problems = validate_paths(paths)
    if problems or not live:
        if output is OutputFormat.JSON:
            typer.echo(json.dumps(_as_json(specs, problems), indent=2))
        else:
            _print_text(specs, problems)
        if problems:
            raise typer.Exit(EXIT_USAGE)
        return
    c = get_ctx(ctx.obj)
    settings = c.settings
    span = span_of(at, lookback, now=c.now, tz=c.tz)
    results = run_live(settings, specs, span)
    code = exit_code(results)
    if output is OutputFormat.JSON:
        doc = _as_json(specs, problems)
        doc["ok"] = code == 0
        doc["live"] = results_json(results, settings.prometheus.url, span)
        typer.echo(json.dumps(doc, indent=2))
    else:
        _print_text(specs, problems)
        console = Console(highlight=False, soft_wrap=True)
        print_results(console, results, settings.prometheus.url, span)
        bad = sum(1 for r in results if r.problem)
        verdict = "OK" if not bad else f"{_plural(bad, 'SLO')} with live problems"
        console.print(verdict, style="green" if not bad else "bold red", markup=False)
    raise typer.Exit(code)


def format_problem(problem: SpecProblem) -> str:
    """``file:line: field.path: message`` (line and path omitted when unknown)."""
    where = f"{problem.file}:{problem.line}" if problem.line else problem.file
    return ": ".join(part for part in (where, problem.path, problem.message) if part)


def describe_indicator(spec: SLOSpec) -> str:
    """Short indicator description: ``ratio``, ``ratio (PromQL)`` or ``latency <= 300ms``."""
    indicator = spec.indicator
    if isinstance(indicator, HistogramLatency):
        seconds = indicator.threshold
        limit = f"{round(seconds * 1000, 6):g}ms" if seconds < 1 else f"{seconds:g}s"
        return f"latency <= {limit}"
    if isinstance(indicator, LogRatio):
        return "logs (Loki)"
    return "ratio" if isinstance(indicator, MetricRatio) else "ratio (PromQL)"


def _print_text(specs: list[SLOSpec], problems: list[SpecProblem]) -> None:
    console = Console(highlight=False, soft_wrap=True)
    if problems:
        for problem in problems:
            console.print(format_problem(problem), style="red", markup=False)
        files = len({p.file for p in problems})
        console.print(
            f"{_plural(len(problems), 'problem')} in {_plural(files, 'file')}",
            style="bold red",
            markup=False,
        )
        return
    table = Table("SLO id", "objective", "window", "indicator")
    for spec in specs:
        table.add_row(
            spec.slo_id, f"{spec.objective:g}%", spec.window.name, describe_indicator(spec)
        )
    console.print(table)
    files = len({s.source for s in specs})
    console.print(
        f"OK: {_plural(len(specs), 'SLO')} in {_plural(files, 'file')}", style="green", markup=False
    )


def _as_json(specs: list[SLOSpec], problems: list[SpecProblem]) -> dict[str, object]:
    return {
        "ok": not problems,
        "slos": [
            {
                "id": s.slo_id,
                "service": s.service,
                "name": s.name,
                "objective": s.objective,
                "window": s.window.name,
                "indicator": s.indicator_kind,
                "source": s.source,
                "line": s.line,
            }
            for s in specs
        ],
        "problems": [
            {"file": p.file, "line": p.line, "path": p.path, "message": p.message} for p in problems
        ],
    }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
