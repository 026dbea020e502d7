"""``sloctl rules generate`` outputs: golden files for each output option (from
tests/golden/rulegen/checkout.yaml, one SLO per spec format) and what each option changes.

Regenerate the golden files after an intended change with
``SLOCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_rulegen_outputs.py``;
tests/integration/test_rules_outputs.py runs promtool on them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from sloctl.cli.main import app
from sloctl.errors import EXIT_USAGE

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "rulegen"
UPDATE = os.environ.get("SLOCTL_UPDATE_GOLDEN") == "1"
GENERATE = ["rules", "generate", "--no-bound-check"]
CRD = ["--format", "prometheus-operator", "--crd-name-prefix", "slo-", "--crd-namespace",
       "monitoring", "--crd-label", "prometheus=k8s",
       "--crd-label", "app.kubernetes.io/part-of=shop"]
STREAMS = {  # golden file -> options of `rules generate --stdout`
    "stdout.yml": [],
    "stdout-operator.yaml": CRD,
    "extra-labels.yml": ["--extra-label", "cluster=prod", "--extra-label", "team=platform"],
    "disable-alerts.yml": ["--disable-alerts"],
    "disable-recordings.yml": ["--disable-recordings"],
}
FILES = {"prometheus": [], "prometheus-operator": CRD}  # golden folder -> options


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the golden input as rules/slos/checkout.yaml, no SLOCTL_*."""
    for name in list(os.environ):
        if name.startswith("SLOCTL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules" / "slos").mkdir(parents=True)
    shutil.copy(GOLDEN / "checkout.yaml", tmp_path / "rules" / "slos" / "checkout.yaml")
    return tmp_path


def generate(*args: str) -> Result:
    return CliRunner().invoke(app, [*GENERATE, *args])


def same_as_golden(text: str, golden: Path) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text(), f"{golden} differs; see this module's docstring"


@pytest.mark.parametrize("name", STREAMS)
def test_stdout_stream_equals_its_golden_file(workdir: Path, name: str) -> None:
    result = generate("--stdout", *STREAMS[name])
    assert result.exit_code == 0, result.output
    same_as_golden(result.stdout, GOLDEN / name)
    assert not (workdir / "rules" / "generated").exists()  # --stdout writes nothing


@pytest.mark.parametrize("folder", FILES)
def test_written_files_equal_their_golden_files(workdir: Path, folder: str) -> None:
    result = generate("--out", "out", *FILES[folder])
    assert result.exit_code == 0, result.output
    written = sorted((workdir / "out").iterdir())
    assert [p.name for p in written] == ["checkout.yml", "sloctl-default-alerts.yml"]
    for path in written:
        same_as_golden(path.read_text(), GOLDEN / folder / path.name)
    check = generate("--out", "out", "--check", *FILES[folder])
    assert check.exit_code == 0 and "up to date" in check.stdout


def rules_of(text: str) -> list[dict[str, Any]]:
    return [r for g in yaml.safe_load(text)["groups"] for r in g["rules"]]


def test_the_stream_is_every_file_in_one_rule_file(workdir: Path) -> None:
    generate("--out", "out")
    files = [yaml.safe_load((workdir / "out" / n).read_text())["groups"]
             for n in ("checkout.yml", "sloctl-default-alerts.yml")]
    stream = yaml.safe_load(generate("--stdout").stdout)
    assert stream["groups"] == files[0] + files[1]


def test_prometheus_rule_objects_hold_the_same_groups(workdir: Path) -> None:
    plain = yaml.safe_load(generate("--stdout").stdout)["groups"]
    docs = list(yaml.safe_load_all(generate("--stdout", *CRD).stdout))
    assert [d["metadata"] for d in docs] == [
        {"name": f"slo-{stem}", "namespace": "monitoring",
         "labels": {"app.kubernetes.io/part-of": "shop", "prometheus": "k8s"}}
        for stem in ("checkout", "sloctl-default-alerts")
    ]
    assert {(d["apiVersion"], d["kind"]) for d in docs} == {
        ("monitoring.coreos.com/v1", "PrometheusRule")}
    assert [g for d in docs for g in d["spec"]["groups"]] == plain


def test_extra_labels_are_on_every_rule_and_a_rules_own_labels_win(workdir: Path) -> None:
    result = generate("--stdout", *STREAMS["extra-labels.yml"])
    rules = rules_of(result.stdout)
    # 3 SLOs x (15 recordings + 3 alerts), 2 default alerts, SloctlEvaluationStale
    assert len(rules) == 3 * 18 + 2 + 1
    assert all(r["labels"]["cluster"] == "prod" for r in rules)
    teams = {r["labels"]["team"] for r in rules}
    assert teams == {"shop", "platform"}  # the SLOs' own label, the extra one on the others
    assert {r["alert"] for r in rules if r["labels"]["team"] == "platform"} == {
        "ServiceErrorRatioHigh", "ServiceLatencyP95High", "SloctlEvaluationStale"}
    assert "sloctl's own notifier does not send the --extra-label labels" in result.stderr


def test_disable_alerts_and_recordings(workdir: Path) -> None:
    recordings = rules_of(generate("--stdout", "--disable-alerts").stdout)
    assert len(recordings) == 3 * 15 and all("record" in r for r in recordings)
    alerts = rules_of(generate("--stdout", "--disable-recordings").stdout)
    assert len(alerts) == 3 * 3 + 2 + 1 and all("alert" in r for r in alerts)
    generate("--out", "out", "--disable-alerts")
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["checkout.yml"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--disable-alerts", "--disable-recordings"],
         "--disable-recordings and --disable-alerts together leave nothing to generate"),
        (["--extra-label", "severity=low"],
         "--extra-label severity=... would replace a label sloctl's rules identify"),
        (["--extra-label", "cluster"], "--extra-label takes KEY=VALUE"),
        (["--extra-label", "k8s-cluster=a"],
         "--extra-label k8s-cluster=a: invalid Prometheus label name 'k8s-cluster'"),
        (["--crd-label", "bad label=x"], "--crd-label bad label=x: not a Kubernetes label"),
        (["--crd-namespace", "Monitoring"], "--crd-namespace 'Monitoring' is not a Kubernetes"),
        (["--check", "--stdout"], "--check compares files on disk"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(workdir: Path, args: list[str],
                                              message: str) -> None:
    result = generate(*args)
    assert result.exit_code == EXIT_USAGE
    assert message in " ".join(result.output.split())
    assert not (workdir / "rules" / "generated").exists()
