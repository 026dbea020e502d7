"""What the running demo prints: its URLs and commands to paste, as plain text.

Plain ``print`` (not Rich, which wraps at the terminal's width), one command per line, values
quoted for the shell, so every line can be pasted as it is.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DemoUrls:
    dashboard: str
    receiver: str
    prometheus: str
    alertmanager: str
    exporter: str


def sloctl_command() -> str:
    """The ``sloctl`` script beside this Python (the demo's virtualenv), else ``sloctl``."""
    script = Path(sys.executable).parent / "sloctl"
    return shlex.quote(str(script)) if script.exists() else "sloctl"


def export_line(env: dict[str, str]) -> str:
    """``export A=... B=...`` on one line, each value quoted for the shell."""
    return "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())


def banner(
    urls: DemoUrls, env: dict[str, str], work: Path, rules: Path, ready_seconds: float
) -> str:
    """The text printed once the demo runs; ``env`` holds the variables the commands need,
    ``rules`` is the folder of the rules Prometheus loaded."""
    sloctl = sloctl_command()
    commands = [
        export_line(env),
        f"{sloctl} status",
        f"{sloctl} slo show payment/availability",
        f"{sloctl} signals",
        f"{sloctl} alerts  # after a minute: alerts Alertmanager sent back to sloctl",
        f"{sloctl} incidents",
        f"{sloctl} dora  # the deployment history: a rollback and a hotfix",
        f"{sloctl} rules generate --check --out {shlex.quote(str(rules))}",
    ]
    lines = [
        f"sloctl demo is running (ready in {ready_seconds:.0f} s)",
        f"  scorecard     {urls.dashboard}",
        f"  sloctl HTTP   {urls.receiver}/metrics  (and the Alertmanager webhook)",
        f"  Prometheus    {urls.prometheus}/alerts  (rules from rules/generated)",
        f"  Alertmanager  {urls.alertmanager}  (alerts of Prometheus and sloctl; webhooks back "
        "to sloctl)",
        f"  exporter      {urls.exporter}/metrics",
        f"  store         {env['SLOCTL_STORE_URL']}  (logs in {work})",
        "",
        "Try, in another shell (one command per line):",
        *commands,
        "",
        "Ctrl-C (or SIGTERM) stops everything.",
    ]
    return "\n".join(lines)
