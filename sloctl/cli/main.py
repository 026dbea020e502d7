"""The `sloctl` command line: thin formatting over the engine, store and spec loader.

Exit codes: the one table is ``sloctl.errors.EXIT_CODE_TABLE``, printed by ``sloctl --help``.

Commands are loaded when used: ``COMMANDS`` names each command's module and the one-line help
``sloctl --help`` shows, so ``--help``, ``--version`` and one command import only that command's
module (see bench/cli_startup.py). A new command: a module with ``register(app)``, and a line here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.core import Command as ClickCommand
from typer._click.core import Context as ClickContext  # typer 0.29 vendors click
from typer.core import TyperCommand, TyperGroup

from sloctl import __version__
from sloctl.errors import SloctlError, SpecError, exit_code_help
from sloctl.extras import missing_extra, needs

# command -> (module in sloctl.cli, the one-line help of `sloctl --help`), in help order
COMMANDS: dict[str, tuple[str, str]] = {
    "eval": ("evaluate", "Run one evaluation cycle now (or --at a past instant), store it, and "
             "show the status."),
    "serve": ("evaluate", "Evaluate every interval until Ctrl-C or SIGTERM, storing every "
              "result."),
    "status": ("status", "Every SLO from the latest evaluation (or --at an instant): objective, "
               "SLI, budget left, burn rates, alerts."),
    "signals": ("status", "Golden signals per service from the latest evaluation (5 m window)."),
    "slo": ("slo", "SLOs from the store: list, show one, its history."),
    "validate": ("validate", "Check SLO spec files offline and, with --live, against "
                 "Prometheus."),
    "alerts": ("alerts", "Alerts firing now (or --at an instant), newest first: one row per "
               "condition, with its sources; with --since/--until, every alert that fired "
               "during the range."),
    "incidents": ("incidents", "Incidents per service from Alertmanager notifications."),
    "silence": ("silence", "Silence a service's or an SLO's alerts in Alertmanager; list and "
                "expire silences."),
    "dora": ("dora", "DORA metrics per service/environment, team and organisation, with level, "
             "house goal and trend against the previous period of the same length."),
    "deploy": ("dora", "Deployment events for the DORA metrics."),
    "logs": ("logs", "Recent log lines of SERVICE from Loki, newest first: time, labels, line."),
    "traces": ("traces", "Operations of SERVICE from span metrics; with --slow or --errors, "
               "example traces too."),
    "deps": ("traces", "The service dependency graph from Jaeger: parent, child, calls (most "
             "calls first)."),
    "discover": ("discover", "Read a Prometheus and tell, per service, which metric conventions "
                 "it exports, where its service name lives, and the bucket bounds of its latency "
                 "histograms; write a starter spec that works on that Prometheus."),
    "rules": ("rules", "Prometheus rules generated from the SLO specs (see `sloctl rules "
              "generate --help`)."),
    "maintenance": ("maintenance", "Maintenance windows: their requests are left out of the "
                    "SLOs' attainment and budget."),
    "report": ("report", "Attainment and budget of every SLO over any range (--since/--until); "
               "the weekly scorecard."),
    "canary": ("canary", "Judge a canary against its baseline over the same interval: pass, "
               "fail or inconclusive."),
    "db": ("db", "The store's schema (which revision it is at, upgrading it) and its "
           "retention."),
    "dashboard": ("dashboard", "Start the app (the CTO scorecard) on 127.0.0.1:8501, until "
                  "Ctrl-C or SIGTERM."),
    "assets": ("assets", "Where the packaged Grafana dashboards, rules, runbooks and examples "
               "lie; copy them out."),
}


def load_commands(module: str) -> dict[str, ClickCommand]:
    """The commands ``sloctl.cli.<module>.register`` adds, as click commands."""
    app = typer.Typer()
    app.callback()(lambda: None)  # a group even when the module registers one command
    importlib.import_module(f"sloctl.cli.{module}").register(app)
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return dict(group.commands)


class SloctlGroup(TyperGroup):
    """The root group: loads each command when used; maps sloctl's typed errors to clear
    messages and documented exit codes."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._loaded: set[str] = set()
        for name, (_, short) in COMMANDS.items():  # listed by --help without importing them
            self.commands.setdefault(name, TyperCommand(name, help=short, short_help=short))

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(COMMANDS)

    def load(self, name: str) -> ClickCommand | None:
        """The real command ``name`` (and its module's other commands), imported now."""
        entry = COMMANDS.get(name)
        if entry is not None and entry[0] not in self._loaded:
            with needs(None, f"`sloctl {name}`"):  # a module that needs a missing extra
                self.commands.update(load_commands(entry[0]))
            self._loaded.add(entry[0])
        return self.commands.get(name)

    def resolve_command(
        self, ctx: ClickContext, args: list[str]
    ) -> tuple[str | None, ClickCommand | None, list[str]]:
        if args:
            self.load(args[0])
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: ClickContext) -> Any:
        from rich.console import Console
        from rich.markup import escape

        try:
            try:
                return super().invoke(ctx)
            except ModuleNotFoundError as exc:  # a lazy import of an extra not installed
                error = missing_extra(exc, f"`sloctl {ctx.invoked_subcommand}`")
                if error is None:
                    raise
                raise error from exc
        except SpecError as exc:
            err = Console(stderr=True)
            for p in exc.problems:
                err.print(f"[red]{escape(str(p))}[/]")
            err.print(f"[red]{len(exc.problems)} problem(s) in the SLO specs; nothing was "
                      "loaded.[/] Run [bold]sloctl validate[/] on them.")
            ctx.exit(exc.exit_code)
        except SloctlError as exc:
            Console(stderr=True).print(f"[red]error:[/] {escape(str(exc))}")
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
    from sloctl.cli.context import Context

    ctx.obj = Context(config=config)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
