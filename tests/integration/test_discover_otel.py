"""``sloctl discover``, ``validate --live`` and ``rules generate``'s bound check on real
OpenTelemetry-instrumented services scraped by a real Prometheus (tests/support/otel).

Four services, new (seconds) and old (milliseconds) HTTP semconv, each without and with an SDK
View that adds 0.3 s / 300 ms: service.name lives only on target_info, and the default buckets
have no 300 ms bound.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from tests.support.otel import AppSpec, OtelStack, StackConfig

pytestmark = pytest.mark.integration

SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
MILLISECONDS = [0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0,
                5000.0, 7500.0, 10000.0]
NEW = ("new-default", "new-view")
OLD = ("old-default", "old-view")


@pytest.fixture(scope="module")
def otel_stack_config() -> StackConfig:
    return StackConfig(apps=(
        AppSpec("new-default"),
        AppSpec("new-view", view=True),
        AppSpec("old-default", semconv="old"),
        AppSpec("old-view", semconv="old", view=True),
    ))


@pytest.fixture()
def cli(otel_stack: OtelStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    assert otel_stack.prometheus is not None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", otel_stack.prometheus.url)
    monkeypatch.setenv("SLOCTL_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def starter(cli: CliRunner, path: Path, *extra: str) -> str:
    result = cli.invoke(app, ["discover", "--write", str(path), *extra])
    assert result.exit_code == 0, result.output
    return path.read_text()


def test_discover_finds_each_service_its_convention_target_info_and_bounds(
    cli: CliRunner, otel_stack: OtelStack
) -> None:
    result = cli.invoke(app, ["discover", "-o", "json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    services = {s["service"]: s for s in doc["services"]}
    assert sorted(services) == sorted([*NEW, *OLD])
    for name, s in services.items():
        new = name in NEW
        view = name.endswith("-view")
        assert s["convention"] == ("otel-http" if new else "otel-http-legacy")
        assert s["preset"] == s["convention"]
        assert s["identity"] == {
            "kind": "target_info", "label": "service_name", "service_from": "target_info",
            "targets": [{"job": "otel-app", "instance": otel_stack.app(name).target}],
        }
        h = s["histogram"]
        assert h["metric"] == ("http_server_request_duration_seconds" if new
                               else "http_server_duration_milliseconds")
        expected = SECONDS if new else MILLISECONDS
        extra = [0.3] if new else [300.0]
        assert h["bounds"] == (sorted(expected + extra) if view else expected)
        assert h["threshold_is_bound"] is view
        assert h["threshold_le"] == ([("0.3" if new else "300.0")] if view else [])
        assert ("0.25" if new else "250.0") in h["le"]
    keys = {c["key"]: c for c in doc["conventions"]}
    assert sorted(keys) == ["otel-http", "otel-http-legacy"]
    assert {m["type"] for m in keys["otel-http"]["metadata"]} == {"histogram"}
    assert "service_name" not in keys["otel-http"]["labels"]


def test_table_output_names_the_missing_bound_and_the_view(cli: CliRunner) -> None:
    result = cli.invoke(app, ["discover"])
    assert result.exit_code == 0, result.output
    assert "target_info join" in result.stdout
    assert ("300ms is not a bucket bound of http_server_request_duration_seconds for "
            "new-default") in result.stdout
    assert 'instrument_name="http.server.duration"' in result.stdout


def test_starter_spec_validates_and_evaluates_without_no_data(
    cli: CliRunner, tmp_path: Path, otel_stack: OtelStack
) -> None:
    # increase() needs two samples of a series: wait for each target's second scrape, and for
    # the clock to pass it (eval evaluates at the current whole second).
    second = otel_stack.wait_for_scrapes(after=max(otel_stack.first_scrape.values()) + 0.001)
    ready = math.ceil(max(second.values()))
    while time.time() < ready:
        time.sleep(0.05)
    spec = tmp_path / "starter.yaml"
    text = starter(cli, spec)
    assert "preset: otel-http\n" in text and "preset: otel-http-legacy\n" in text
    assert text.count("serviceFrom: target_info") == 2
    assert "# new-default: 300ms (bound 0.3 in s) is not a bucket bound" in text
    assert "# old-default: 300ms (bound 300 in ms) is not a bucket bound" in text
    assert "new-view:" not in text and "old-view:" not in text
    offline = cli.invoke(app, ["validate", str(spec)])
    assert offline.exit_code == 0, offline.output
    ev = cli.invoke(app, ["eval", "--spec", str(spec), "-q", "-o", "json"])
    assert ev.exit_code == 0, ev.output
    doc = json.loads(ev.stdout)
    assert len(doc["slos"]) == 8
    assert [s["slo_id"] for s in doc["slos"] if s["no_data"]] == []
    assert [p for p in doc["problems"] if p.startswith("no data")] == []

GOOD = """\
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: otel-http
  services: [new-view]
  latency: {threshold: 300ms}
---
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: otel-http-legacy
  services: [old-view]
---
apiVersion: sloctl/v1
kind: SLO
metadata: {name: p99-like}
spec:
  service: old-default
  serviceLabel: service_name
  serviceFrom: target_info
  objective: 99
  indicator:
    latency: {metric: http_server_duration_milliseconds, threshold: 250ms}
"""

WRONG_METRIC = """\
apiVersion: sloctl/v1
kind: SLO
metadata: {name: latency}
spec:
  service: new-default
  serviceLabel: service_name
  serviceFrom: target_info
  objective: 99
  indicator:
    latency: {metric: http_server_duration_seconds, threshold: 250ms}
"""


def test_validate_live_good_spec_passes(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    result = cli.invoke(app, ["validate", "--live", str(tmp_path / "good.yaml")])
    assert result.exit_code == 0, result.output
    assert 'new-view/latency (' in result.stdout and 'le="0.3"' in result.stdout
    assert 'le="250.0"' in result.stdout


def test_validate_live_wrong_metric_is_no_data(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "wrong.yaml").write_text(WRONG_METRIC)
    result = cli.invoke(app, ["validate", "--live", str(tmp_path / "wrong.yaml"), "-o", "json"])
    assert result.exit_code == 4, result.output
    [row] = json.loads(result.stdout)["live"]["results"]
    assert row["status"] == "no_data"
    assert row["message"].startswith(
        "no series named http_server_duration_seconds_bucket over the last 1h")


def test_validate_live_threshold_not_a_bound_lists_bounds_and_view(
    cli: CliRunner, tmp_path: Path
) -> None:
    spec = tmp_path / "starter.yaml"
    starter(cli, spec)
    result = cli.invoke(app, ["validate", "--live", str(spec)])
    assert result.exit_code == 2, result.output
    assert ("NOT A BOUND new-default/latency" in result.stdout
            and "NOT A BOUND old-default/latency" in result.stdout)
    assert ("300ms (bound 0.3 in s) is not a bucket bound of "
            "http_server_request_duration_seconds. Bounds: 0.005, 0.01, 0.025, 0.05, 0.075, "
            "0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10 (s); nearest bounds: 250ms or 500ms."
            ) in result.stdout
    assert ('View(\n      instrument_name="http.server.request.duration",' in result.stdout)
    assert ("ExplicitBucketHistogramAggregation([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, "
            "0.3, 0.5, 0.75, 1, 2.5, 5, 7.5, 10])") in result.stdout
    assert 'instrument_name="http.server.duration",' in result.stdout
    assert "ok new-view/latency" in result.stdout and "ok old-view/latency" in result.stdout


def test_rules_generate_refuses_a_threshold_that_is_not_a_bound(
    cli: CliRunner, tmp_path: Path
) -> None:
    spec = tmp_path / "starter.yaml"
    starter(cli, spec)
    refused = cli.invoke(app, ["rules", "generate", "-s", str(spec), "--out", "out"])
    assert refused.exit_code == 2, refused.output
    assert "refusing to write rules: 2 latency threshold(s) are not bucket bounds" in (
        refused.stderr)
    assert "Bounds: 0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000 " \
           "(ms)" in refused.stderr
    assert 'instrument_name="http.server.request.duration"' in refused.stderr
    assert not (tmp_path / "out").exists()

    forced = cli.invoke(app, ["rules", "generate", "-s", str(spec), "--out", "out",
                              "--no-bound-check"])
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "out" / "starter.yml").exists()

    (tmp_path / "good.yaml").write_text(GOOD)
    good = cli.invoke(app, ["rules", "generate", "-s", str(tmp_path / "good.yaml"), "--out",
                            "good"])
    assert good.exit_code == 0, good.output
    assert "WARNING" not in good.stderr and "refusing" not in good.stderr
    check = cli.invoke(app, ["rules", "generate", "-s", str(tmp_path / "good.yaml"), "--out",
                             "good", "--check"])
    assert check.exit_code == 0, check.output


def test_rules_generate_warns_when_prometheus_is_unreachable(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", "http://127.0.0.1:1")
    result = cli.invoke(app, ["rules", "generate", "-s", str(tmp_path / "good.yaml"), "--out",
                              "out"])
    assert result.exit_code == 0, result.output
    assert "WARNING: the latency thresholds were NOT checked" in result.stderr
    assert "http://127.0.0.1:1" in result.stderr
    assert f"sloctl validate --live {tmp_path / 'good.yaml'}" in result.stderr
