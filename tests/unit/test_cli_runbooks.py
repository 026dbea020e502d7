"""docs/runbooks.md: a section per alert sloctl defines, anchored by its lower-cased alertname,
linked from every generated rule and sloctl's own alerts; the commands it gives exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from sloctl.cli.main import COMMANDS
from sloctl.core import alert_rules
from sloctl.settings import AlertmanagerSettings

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks.md"
TEXT = RUNBOOKS.read_text(encoding="utf-8")
PARTS = ("**What it means.**", "**First checks.**", "**How to silence.**", "**How to fix.**")


def section(alertname: str) -> str:
    start = TEXT.index(f'<a id="{alertname.lower()}"></a>\n\n## {alertname}\n')
    following = TEXT.find('<a id="', start + 1)
    return TEXT[start: following if following > 0 else len(TEXT)]


@pytest.mark.parametrize("defn", list(alert_rules.DEFINITIONS.values()),
                         ids=lambda d: d.alertname)
def test_every_alert_has_its_section(defn: alert_rules.AlertDefinition) -> None:
    text = section(defn.alertname)
    assert [text.find(p) > 0 for p in PARTS] == [True] * 4
    assert sorted(text.find(p) for p in PARTS) == [text.find(p) for p in PARTS]
    assert f"| `{defn.alertname}` | {defn.severity} | [{defn.alertname}]" \
           f"(#{defn.alertname.lower()}) |" in TEXT


def test_the_staleness_alert_is_defined_and_documented() -> None:
    assert alert_rules.EVALUATION_STALE.alertname == "SloctlEvaluationStale"
    assert "sloctl_last_evaluation_timestamp_seconds" in section("SloctlEvaluationStale")


def test_every_generated_runbook_link_has_an_anchor() -> None:
    base = AlertmanagerSettings().runbook_url
    assert base.endswith("/docs/runbooks.md")
    anchors = set(re.findall(r'<a id="([a-z0-9]+)"></a>', TEXT))
    links = {
        rule["annotations"]["runbook_url"]
        for path in (ROOT / "rules" / "generated").glob("*.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"] if "alert" in rule
    }
    assert len(links) == len(alert_rules.DEFINITIONS)
    for link in links:
        page, anchor = link.split("#")
        assert page == base and anchor in anchors
    assert alert_rules.runbook_url(base, alert_rules.EVALUATION_STALE) == (
        f"{base}#sloctlevaluationstale")


def test_the_commands_given_exist() -> None:
    lines = [line for line in re.findall(r"`(sloctl [^`]+)`", TEXT)]
    lines += [line.split("#")[0] for line in TEXT.splitlines() if line.startswith("sloctl ")]
    used = {shlex.split(line)[1] for line in lines}
    assert used <= set(COMMANDS), used - set(COMMANDS)
    assert {"status", "slo", "silence", "signals", "alerts", "logs", "traces"} <= used
