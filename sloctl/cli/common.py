"""Options and helpers shared by CLI commands."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from sloctl.cli.context import Context
from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.errors import EXIT_BREACH, EXIT_OK


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class FailOnWhat(StrEnum):
    breach = "breach"
    alert = "alert"
    any = "any"


OutputOption = Annotated[OutputFormat, typer.Option("--output", "-o", help="table or json.")]
FailOn = Annotated[FailOnWhat | None, typer.Option(
    "--fail-on", help="Exit 1 when an SLO breaches its objective (breach), an alert fires "
    "(alert), or either (any). For CI gates and scripts.")]
SpecOption = Annotated[list[Path] | None, typer.Option(
    "--spec", "-s", help="SLO spec file or folder (repeatable); default: settings `specs`.")]


def get_ctx(obj: object) -> Context:
    """The per-invocation Context stored by the root callback."""
    if not isinstance(obj, Context):
        return Context()
    return obj


def exit_for(ev: Evaluation, fail_on: FailOnWhat | None) -> int:
    """Exit code for --fail-on."""
    if fail_on is None:
        return EXIT_OK
    breach = any(s.breaching for s in ev.slos)
    firing = any(a.state == AlertState.FIRING for a in ev.alerts)
    hit = {
        FailOnWhat.breach: breach,
        FailOnWhat.alert: firing,
        FailOnWhat.any: breach or firing,
    }[fail_on]
    return EXIT_BREACH if hit else EXIT_OK
