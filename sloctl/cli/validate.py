"""``sloctl validate PATH...``: check SLO spec files and list every problem with its line."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sloctl.errors import EXIT_USAGE, SpecProblem
from sloctl.spec.loader import validate_paths
from sloctl.spec.models import HistogramLatency, LogRatio, MetricRatio, SLOSpec

HELP = (
    "Check SLO spec files offline, without querying any backend.\n\n"
    "Checks YAML syntax, apiVersion (sloctl/v1) and kind (SLO, ServiceSLOs), unknown, missing "
    "and mistyped fields, objectives (a percentage strictly between 0 and 100), windows (28d, "
    "4w, calendar-month) and thresholds (300ms), label and metric names, indicator presets, raw "
    "PromQL templates (must contain {{window}}), and that SLO ids (service/name) are unique "
    "across all files. Folders are searched recursively for *.yaml and *.yml files.\n\n"
    "Every problem in every file is printed as FILE:LINE: FIELD: MESSAGE, and the exit code is "
    "then 2.\n\n"
    "Example: sloctl validate rules/slos/ checkout.yaml --output json"
)


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to ``app``."""
    app.command("validate", help=HELP)(validate)


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Spec files or folders (searched for *.yaml, *.yml).", show_default=False
        ),
    ],
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="Output format: text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    specs, problems = validate_paths(paths)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(_as_json(specs, problems), indent=2))
    else:
        _print_text(specs, problems)
    if problems:
        raise typer.Exit(EXIT_USAGE)


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
