"""Options and helpers shared by CLI commands."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sloctl.cli.context import Context
from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.errors import EXIT_BACKEND, EXIT_BREACH, EXIT_NO_DATA, EXIT_OK


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class FailOnWhat(StrEnum):
    breach = "breach"
    alert = "alert"
    any = "any"
    no_data = "no-data"


OutputOption = Annotated[OutputFormat, typer.Option("--output", "-o", help="table or json.")]
FailOn = Annotated[FailOnWhat | None, typer.Option(
    "--fail-on", help="For CI gates and scripts: exit 1 when an SLO breaches its objective "
    "(breach), an alert fires (alert), or either (any); with any of these, also exit 4 when an "
    "SLO or a service's signals match no series at all (no data; `no-data` checks only that). "
    "A failed query exits 3 with or without it (exit codes: sloctl --help).")]
SpecOption = Annotated[list[Path] | None, typer.Option(
    "--spec", "-s", help="SLO spec file or folder (repeatable); default: settings `specs`.")]


def get_ctx(obj: object) -> Context:
    """The per-invocation Context stored by the root callback."""
    if not isinstance(obj, Context):
        return Context()
    return obj


def exit_for(ev: Evaluation, fail_on: FailOnWhat | None) -> int:
    """Exit code of an evaluation (the table: ``sloctl --help``).

    Without --fail-on: 3 when a query failed (some values are unknown), else 0. With it: 1
    breach/firing, else 4 no data, else 3 backend errors, else 0. A gate must not pass because
    sloctl could not see: an SLO without series (no data) or a backend error fails it even when
    nothing breaches.
    """
    if fail_on is None:
        return EXIT_BACKEND if ev.backend_errors else EXIT_OK
    breach = any(s.breaching for s in ev.slos)
    firing = any(a.state == AlertState.FIRING for a in ev.alerts)
    hit = {
        FailOnWhat.breach: breach,
        FailOnWhat.alert: firing,
        FailOnWhat.any: breach or firing,
        FailOnWhat.no_data: False,
    }[fail_on]
    if hit:
        return EXIT_BREACH
    if ev.blind:
        return EXIT_NO_DATA
    if ev.backend_errors and fail_on is not FailOnWhat.no_data:
        return EXIT_BACKEND
    return EXIT_OK
