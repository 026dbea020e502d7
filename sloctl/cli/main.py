"""The `sloctl` command line: thin formatting over the engine, store and spec loader.

Exit codes: the one table is ``sloctl.errors.EXIT_CODE_TABLE``, printed by ``sloctl --help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer._click.core import Context as ClickContext  # typer 0.29 vendors click
from typer.core import TyperGroup

from sloctl import __version__
from sloctl.cli import canary as canary_cmd
from sloctl.cli import db as db_cmd
from sloctl.cli import discover as discover_cmd
from sloctl.cli import dora, evaluate, incidents, logs, report, rules, status, traces, validate
from sloctl.cli.context import Context
from sloctl.errors import SloctlError, SpecError, exit_code_help

err = Console(stderr=True)

class SloctlGroup(TyperGroup):
    """Maps sloctl's typed errors to clear messages and documented exit codes."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except SpecError as exc:
            for p in exc.problems:
                err.print(f"[red]{escape(str(p))}[/]")
            err.print(f"[red]{len(exc.problems)} problem(s) in the SLO specs; nothing was "
                      "loaded.[/] Run [bold]sloctl validate[/] on them.")
            ctx.exit(exc.exit_code)
        except SloctlError as exc:
            err.print(f"[red]error:[/] {escape(str(exc))}")
            ctx.exit(exc.exit_code)


app = typer.Typer(
    cls=SloctlGroup,
    name="sloctl",
    help="SLOs, error budgets, burn rates and golden signals from Prometheus, for on-call "
    "engineers.\n\n[bold]Exit codes[/] (of every command):\n\n" + exit_code_help(),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

def _version(value: bool) -> None:
    if value:
        print(f"sloctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", envvar="SLOCTL_CONFIG",
        help="Settings file (default ./sloctl.yaml if present).")] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Settings come from sloctl.yaml and SLOCTL_* variables (see the README)."""
    ctx.obj = Context(config=config)
    ctx.call_on_close(ctx.obj.close)


evaluate.register(app)
status.register(app)
validate.register(app)
rules.register(app)
incidents.register(app)
dora.register(app)
logs.register(app)
traces.register(app)
discover_cmd.register(app)
db_cmd.register(app)
canary_cmd.register(app)
report.register(app)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
