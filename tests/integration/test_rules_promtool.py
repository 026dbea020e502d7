"""promtool on the committed rules: they parse (``check rules``) and every alert fires and stays
silent on the designed inputs of rules/tests (``test rules``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sloctl.demo.prometheus_server import find_binary

pytestmark = pytest.mark.integration

RULES = Path(__file__).resolve().parents[2] / "rules"
GENERATED = sorted((RULES / "generated").glob("*.yml"))
TESTS = sorted((RULES / "tests").glob("*.yml"))


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_binary("promtool"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_generated_rule_files_pass_promtool_check() -> None:
    assert [p.name for p in GENERATED] == ["shop.yml", "sloctl-default-alerts.yml"]
    result = promtool("check", "rules", *GENERATED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 198 rules found" in result.stdout  # 11 SLOs x 18 rules
    # 5 services x 2 default alerts, and SloctlEvaluationStale
    assert "SUCCESS: 11 rules found" in result.stdout


@pytest.mark.parametrize("test_file", TESTS, ids=lambda p: p.stem)
def test_promtool_unit_tests_pass(test_file: Path) -> None:
    result = promtool("test", "rules", test_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_promtool_cases_firing_and_silent() -> None:
    import yaml

    alerts = {
        rule["alert"]
        for path in GENERATED
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    firing: set[str] = set()
    silent: set[str] = set()
    for path in TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check["exp_alerts"] else silent).add(check["alertname"])
    assert alerts == {
        "SLOBurnRatePage",
        "SLOMetricAbsent",
        "SLOBurnRateTicket",
        "ServiceErrorRatioHigh",
        "ServiceLatencyP95High",
        "SloctlEvaluationStale",
    }
    assert firing == alerts
    assert silent == alerts


def test_a_wrong_expectation_makes_promtool_fail(tmp_path: Path) -> None:
    """The unit tests can fail: the same case with a wrong expected 5m error ratio."""
    source = (RULES / "tests" / "slo_burn_alerts_test.yml").read_text()
    broken = source.replace(
        "rule_files:\n  - ../generated/shop.yml",
        f"rule_files:\n  - {RULES / 'generated' / 'shop.yml'}",
    ).replace("value: 0.25", "value: 0.5")
    path = tmp_path / "broken_test.yml"
    path.write_text(broken)
    result = promtool("test", "rules", path)
    assert result.returncode == 1
    assert "FAILED" in result.stdout + result.stderr
