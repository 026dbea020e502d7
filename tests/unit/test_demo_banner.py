"""What the demo prints can be pasted: one command per line, values quoted for the shell."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sloctl.demo.banner import DemoUrls, banner

URLS = DemoUrls("http://127.0.0.1:8501", "http://127.0.0.1:9464", "http://127.0.0.1:9090",
                "http://127.0.0.1:9093", "http://127.0.0.1:9100")
ENV = {
    "SLOCTL_PROMETHEUS_URL": "http://127.0.0.1:9090",
    "SLOCTL_STORE_URL": "sqlite:////tmp/a demo's dir/sloctl.db",  # a space and a quote
    "SLOCTL_SPECS": "/opt/sloctl/demo/specs",
}
RULES = Path("/opt/sloctl/rules/generated")


def commands() -> list[str]:
    text = banner(URLS, ENV, Path("/tmp/work"), RULES, 12.3)
    lines = text.splitlines()
    start = lines.index("Try, in another shell (one command per line):") + 1
    return lines[start:lines.index("", start)]


def test_every_command_is_one_line_without_continuations_or_markup() -> None:
    text = banner(URLS, ENV, Path("/tmp/work"), RULES, 12.3)
    assert "[bold" not in text and "\\\n" not in text
    lines = commands()
    assert lines[0].startswith("export SLOCTL_PROMETHEUS_URL=")
    assert len(lines) == 8 and all(" sloctl" in ln or "/sloctl " in ln for ln in lines[1:])
    assert lines[-1].endswith("rules generate --check --out /opt/sloctl/rules/generated")


def test_the_export_line_sets_the_variables_when_pasted_into_bash() -> None:
    script = commands()[0] + '\nprintf "%s\\n" "$SLOCTL_PROMETHEUS_URL" "$SLOCTL_STORE_URL" ' \
        '"$SLOCTL_SPECS"\n'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == list(ENV.values())
