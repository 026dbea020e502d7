"""`sloctl dashboard`: the app packaged in the wheel (``sloctl/dashboard/app.py``), run by
Streamlit's own command line in this process, on loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
import os
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Annotated

import typer
from rich.markup import escape

from sloctl.cli import fmt
from sloctl.cli.common import get_ctx
from sloctl.extras import needs, require

err = fmt.SafeConsole(stderr=True)

# One paragraph per item (Rich keeps the line breaks of a help text); \\[ is a literal [.
HELP = "\n\n".join((
    "Start the app (the CTO scorecard) on 127.0.0.1:8501, until Ctrl-C or SIGTERM.",
    "The app shows what the store holds: SLOs, services, DORA, incidents, the weekly reports.",
    "Needs the dashboard extra: pip install 'sloctl\\[dashboard]' (or 'sloctl\\[all]').",
    "The app reads the settings every command reads: --config / SLOCTL_CONFIG (else "
    "./sloctl.yaml) and the SLOCTL_* variables; --store overrides store_url for this run. They "
    "are checked before the server starts: a bad one is exit 2 here, not an error page. The "
    "store is opened read only: fill it with `sloctl eval` (one evaluation) or `sloctl serve` "
    "(one every interval).",
    "It listens on 127.0.0.1: the app has no login of its own, and a visitor reaching it by any "
    "other host name sees nothing. To share it, put an authenticating proxy in front on the "
    "same host and set dashboard.auth_header (README: Under attack and overload); only then "
    "choose another --address.",
    "Other Streamlit options (theme, upload size, ...) come from .streamlit/config.toml in the "
    "working folder or ~/.streamlit/config.toml; the address, port, headless mode, file "
    "watcher and usage statistics are set here.",
    "Examples:",
    "  sloctl dashboard",
    "  sloctl dashboard --port 8600 --store sqlite:////var/lib/sloctl/sloctl.db",
    "  sloctl --config /etc/sloctl/sloctl.yaml dashboard",
))


def app_script() -> Traversable:
    """The app's entry script in the installed package."""
    return resources.files("sloctl") / "dashboard" / "app.py"


def streamlit_args(script: str, address: str, port: int) -> list[str]:
    """``streamlit run`` with sloctl's server options (what .streamlit/config.toml sets)."""
    return ["run", script, "--server.address", address, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]


def _loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def dashboard_command(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(
        help="Address to listen on. Keep loopback unless an authenticating proxy is in front "
        "and dashboard.auth_header is set.")] = "127.0.0.1",
    store: Annotated[str | None, typer.Option(
        help="Store URL for this run (default: store_url of the settings, SLOCTL_STORE_URL).",
        show_default=False)] = None,
) -> None:
    require("dashboard", "`sloctl dashboard`")
    c = get_ctx(ctx.obj)
    # the app runs in this process and reads its settings from the environment, as we do
    if store:
        os.environ["SLOCTL_STORE_URL"] = store
    if c.config is not None:
        os.environ["SLOCTL_CONFIG"] = str(c.config.resolve())
    settings = c.settings
    from sloctl.store.database import shown

    if not _loopback(address) and settings.dashboard.auth_header is None:
        err.print(f"[yellow]warning:[/] listening on {escape(address)} without "
                  "dashboard.auth_header: "
                  "visitors from other hosts see nothing but a refusal (README: Under attack "
                  "and overload)")
    err.print(f"sloctl app on http://{escape(address)}:{port} (store "
              f"{escape(shown(settings.store_url))}); Ctrl-C to stop")
    with needs("dashboard", "`sloctl dashboard`"):
        from streamlit.web import cli as streamlit_cli
    with resources.as_file(app_script()) as script:
        streamlit_cli.main(args=streamlit_args(str(script), address, port),
                           prog_name="streamlit", standalone_mode=True)


def register(app: typer.Typer) -> None:
    app.command("dashboard", help=HELP)(dashboard_command)
