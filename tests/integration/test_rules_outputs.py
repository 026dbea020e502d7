"""promtool on every output of ``rules generate`` (the golden files of
tests/golden/rulegen, and the rules of rules/examples): they parse, the ``spec.groups`` of each
``PrometheusRule`` parse as a rule file, and the alerts of imported SLOs fire as designed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from sloctl.demo.prometheus_server import find_binary
from sloctl.rulegen import plan_files
from sloctl.settings import Settings
from sloctl.spec.loader import load_specs

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "rulegen"
# Rule files -> rules: 3 SLOs x (15 recordings + page, ticket, absent), 2 default alerts and
# SloctlEvaluationStale.
PLAIN = {
    "prometheus/checkout.yml": 54,
    "prometheus/sloctl-default-alerts.yml": 3,
    "stdout.yml": 57,
    "extra-labels.yml": 57,
    "disable-alerts.yml": 45,
    "disable-recordings.yml": 12,
}
CRDS = ["stdout-operator.yaml", "prometheus-operator/checkout.yml",
        "prometheus-operator/sloctl-default-alerts.yml"]


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([find_binary("promtool"), *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", PLAIN)
def test_rule_files_pass_promtool_check(name: str) -> None:
    result = promtool("check", "rules", GOLDEN / name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {PLAIN[name]} rules found" in result.stdout


@pytest.mark.parametrize("name", CRDS)
def test_the_groups_of_each_prometheus_rule_pass_promtool_check(name: str,
                                                                 tmp_path: Path) -> None:
    docs = list(yaml.safe_load_all((GOLDEN / name).read_text()))
    assert docs and all(d["kind"] == "PrometheusRule" for d in docs)
    paths = []
    for index, doc in enumerate(docs):
        path = tmp_path / f"{index}.yml"
        path.write_text(yaml.safe_dump({"groups": doc["spec"]["groups"]}, sort_keys=False))
        paths.append(path)
    result = promtool("check", "rules", *paths)
    assert result.returncode == 0, result.stdout + result.stderr
    for doc in docs:
        count = sum(len(group["rules"]) for group in doc["spec"]["groups"])
        assert f"SUCCESS: {count} rules found" in result.stdout


def test_the_rules_of_the_examples_pass_promtool_check(tmp_path: Path) -> None:
    planned = plan_files(load_specs([REPO / "rules" / "examples"]), Settings())
    assert sorted(planned) == ["openslo.yml", "sloctl-default-alerts.yml", "sloth.yml"]
    for name, text in planned.items():
        (tmp_path / name).write_text(text)
    result = promtool("check", "rules", *sorted(tmp_path.iterdir()))
    assert result.returncode == 0, result.stdout + result.stderr
    # Sloth: 6 SLOs x 15 recordings + 5 with alerting x 3 alerts; OpenSLO: 4 SLOs x 18.
    assert "SUCCESS: 105 rules found" in result.stdout
    assert "SUCCESS: 72 rules found" in result.stdout
    # 5 services x 2 default alerts, and SloctlEvaluationStale
    assert "SUCCESS: 11 rules found" in result.stdout


def test_imported_slos_alerts_pass_their_promtool_unit_tests() -> None:
    result = promtool("test", "rules", GOLDEN / "imported_alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_wrong_expectation_makes_them_fail(tmp_path: Path) -> None:
    source = (GOLDEN / "imported_alerts_test.yml").read_text()
    broken = source.replace("  - prometheus/checkout.yml",
                            f"  - {GOLDEN / 'prometheus' / 'checkout.yml'}")
    broken = broken.replace("value: 0.25", "value: 0.5")
    path = tmp_path / "broken_test.yml"
    path.write_text(broken)
    result = promtool("test", "rules", path)
    assert result.returncode == 1
    assert "FAILED" in result.stdout + result.stderr
