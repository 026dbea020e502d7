"""`sloctl assets`: where the wheel's packaged files lie (Grafana, rules, runbooks, examples),
and copying one out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from sloctl import assets

out = Console()

HELP = "\n\n".join((
    "Where the packaged Grafana dashboards, rules, runbooks and examples lie; copy them out.",
    "The files sloctl ships besides its code, in this installation: Grafana's "
    "provisioning and dashboards, the rules and their examples, the runbooks, the "
    "OpenTelemetry Collector config, the settings example and the demo's specs.",
    "Without NAME: every asset, its path and what it holds. With NAME: its path alone, for "
    "scripts. With --copy DEST: a copy at DEST (a new folder or file; an existing one is "
    "refused), to edit or to mount.",
    "Examples:",
    "  sloctl assets",
    "  sloctl validate \"$(sloctl assets demo-specs)\"",
    "  sloctl assets grafana --copy ./grafana",
    "  docker run --env-file grafana/sloctl.env -v $PWD/grafana/provisioning:/etc/grafana/"
    "provisioning -v $PWD/grafana/dashboards:/etc/grafana/dashboards/sloctl grafana/grafana",
))


def assets_command(
    name: Annotated[str | None, typer.Argument(
        help=f"One of: {', '.join(a.name for a in assets.ASSETS)}.", show_default=False)] = None,
    copy: Annotated[Path | None, typer.Option(
        "--copy", help="Copy asset NAME to this new path.", show_default=False)] = None,
) -> None:
    if name is None:
        if copy is not None:
            raise assets.AssetError("--copy needs the NAME of the asset to copy")
        width = max(len(item.name) for item in assets.ASSETS) + 2
        for item in assets.ASSETS:  # whole paths, never cut, to copy from the terminal
            out.print(f"[bold]{item.name:<{width}}[/]{escape(str(assets.path(item.name)))}",
                      soft_wrap=True)
            out.print(f"{'':<{width}}[dim]{escape(item.about)}[/]")
        return
    if copy is None:
        print(assets.path(name))
        return
    print(f"copied {assets.path(name)} to {assets.copy(name, copy)}")


def register(app: typer.Typer) -> None:
    app.command("assets", help=HELP)(assets_command)
