"""``sloctl discover`` on backfilled histories of each layout (classic clients by job, spanmetrics
with and without namespace in s and ms, the collector with service_name on the series,
Prometheus' OTLP receiver, gRPC), its starter spec, and ``validate --live`` on them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.demo.backfill import backfill
from sloctl.demo.prometheus_server import PrometheusServer
from tests.support.layout_history import LAYOUTS, write_layouts

pytestmark = pytest.mark.integration

STEP = 60
HOURS = 2


@pytest.fixture(scope="module")
def history_end() -> datetime:
    """An instant 3-4 h ago: backfilled blocks must stay out of the head block."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


@pytest.fixture(scope="module")
def prometheus(history_end: datetime, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[PrometheusServer]:
    root = tmp_path_factory.mktemp("discover-layouts")
    end = int(history_end.timestamp())
    times = [float(end - k * STEP) for k in range(HOURS * 3600 // STEP, -1, -1)]
    write_layouts(root / "layouts.om", LAYOUTS, times)
    backfill(root / "layouts.om", root / "data")
    with PrometheusServer(root / "data") as server:
        yield server


@pytest.fixture()
def cli(prometheus: PrometheusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", prometheus.url)
    monkeypatch.setenv("SLOCTL_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def discover_json(cli: CliRunner, at: datetime, *extra: str) -> dict[str, Any]:
    result = cli.invoke(app, ["discover", "-o", "json", "--at", at.isoformat(), *extra])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_discover_tells_each_layout_apart(cli: CliRunner, history_end: datetime) -> None:
    doc = discover_json(cli, history_end)
    got = {
        (s["service"], s["convention"]): (
            s["identity"]["kind"], s["identity"]["label"], s["identity"]["service_from"],
            s["histogram"]["threshold_is_bound"], s["status_label"],
        )
        for s in doc["services"]
    }
    assert got == {
        ("billing", "prometheus-http"): ("job", "job", "series", False, "code"),
        ("cart", "spanmetrics"): ("label", "service_name", "series", True, "status_code"),
        ("search", "spanmetrics-ms"): ("label", "service_name", "series", False, "status_code"),
        ("ads", "spanmetrics-bare"): ("label", "service_name", "series", True, "status_code"),
        ("email", "spanmetrics-bare-ms"): ("label", "service_name", "series", True,
                                           "status_code"),
        ("checkout", "otel-http"): ("label", "service_name", "series", True,
                                    "http_response_status_code"),
        ("shop/payments", "otel-http"): ("job", "job", "series", False,
                                         "http_response_status_code"),
        ("ledger", "otel-grpc-legacy"): ("label", "service_name", "series", False,
                                         "rpc_grpc_status_code"),
    }
    by_service = {s["service"]: s for s in doc["services"]}
    billing = by_service["billing"]["histogram"]
    assert billing["metric"] == "http_request_duration_seconds" and billing["unit"] == "s"
    assert billing["bounds"] == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                                 5.0, 7.5, 10.0]
    assert billing["le"][-2:] == ["10.0", "+Inf"]
    email = by_service["email"]["histogram"]
    assert email["unit"] == "ms" and email["threshold_in_unit"] == 300.0
    assert email["threshold_le"] == ["300"]
    search = by_service["search"]["histogram"]
    assert search["bounds"][5:9] == [50.0, 100.0, 200.0, 400.0]
    assert by_service["cart"]["histogram"]["threshold_le"] == ["0.3"]
    assert by_service["billing"]["counter"] == "http_requests_total"
    assert by_service["shop/payments"]["identity"]["targets"] == [
        {"job": "shop/payments", "instance": "6f1c2a"}]


def test_threshold_option_moves_the_check(cli: CliRunner, history_end: datetime) -> None:
    doc = discover_json(cli, history_end, "--threshold", "250ms")
    bound = {s["service"]: s["histogram"]["threshold_is_bound"] for s in doc["services"]}
    assert bound == {"billing": True, "cart": True, "search": False, "ads": True,
                     "email": True, "checkout": True, "shop/payments": True, "ledger": True}


def test_starter_spec_validates_and_evaluates_without_no_data(
    cli: CliRunner, history_end: datetime, tmp_path: Path
) -> None:
    spec = tmp_path / "starter.yaml"
    wrote = cli.invoke(app, ["discover", "--at", history_end.isoformat(), "--write", str(spec)])
    assert wrote.exit_code == 0, wrote.output
    text = spec.read_text()
    assert "# billing: 300ms (bound 0.3 in s) is not a bucket bound" in text
    assert "from prometheus_client import Histogram" in text
    assert "# search: 300ms (bound 300 in ms) is not a bucket bound" in text
    assert "buckets: [2ms, 4ms, 6ms, 8ms, 10ms, 50ms, 100ms, 200ms, 300ms, 400ms" in text
    offline = cli.invoke(app, ["validate", str(spec), "-o", "json"])
    assert offline.exit_code == 0, offline.output
    ids = sorted(s["id"] for s in json.loads(offline.stdout)["slos"])
    http = ("billing", "cart", "search", "ads", "email", "checkout", "shop/payments")
    assert ids == sorted([
        *(f"{svc}/{name}" for svc in http for name in ("availability", "latency")),
        "ledger/grpc-availability", "ledger/grpc-latency",
    ])
    ev = cli.invoke(app, ["eval", "--spec", str(spec), "--at", history_end.isoformat(), "-q",
                          "-o", "json"])
    assert ev.exit_code == 0, ev.output
    doc = json.loads(ev.stdout)
    assert [s["slo_id"] for s in doc["slos"] if s["no_data"]] == []
    assert [p for p in doc["problems"]
            if p.startswith("no data: ") and not p.startswith("no data: signals of")] == []


def test_validate_live_on_the_starter_spec(cli: CliRunner, history_end: datetime,
                                           tmp_path: Path) -> None:
    spec = tmp_path / "starter.yaml"
    cli.invoke(app, ["discover", "--at", history_end.isoformat(), "--write", str(spec)])
    live = cli.invoke(app, ["validate", "--live", "--at", history_end.isoformat(), str(spec),
                            "-o", "json"])
    assert live.exit_code == 2, live.output
    results = {r["id"]: r for r in json.loads(live.stdout)["live"]["results"]}
    not_bound = sorted(i for i, r in results.items() if r["status"] == "not_a_bound")
    assert not_bound == ["billing/latency", "ledger/grpc-latency", "search/latency",
                         "shop/payments/latency"]
    assert {r["status"] for i, r in results.items() if i not in not_bound} == {"ok"}
    search = results["search/latency"]
    assert search["histogram"]["bounds"][6:9] == [100.0, 200.0, 400.0]
    assert "explicit:" in search["fix"] and "300ms" in search["fix"]
    ledger = results["ledger/grpc-latency"]
    assert 'instrument_name="rpc.server.duration"' in ledger["fix"]
    good = cli.invoke(app, ["discover", "--at", history_end.isoformat(), "--threshold", "250ms",
                            "-o", "yaml"])
    (tmp_path / "good.yaml").write_text(good.stdout)
    # search's connector has no 250 ms bound either: drop it from the good spec's check
    ok = cli.invoke(app, ["validate", "--live", "--at", history_end.isoformat(),
                          str(tmp_path / "good.yaml"), "-o", "json"])
    statuses = {r["id"]: r["status"] for r in json.loads(ok.stdout)["live"]["results"]}
    assert {i for i, s in statuses.items() if s != "ok"} == {"search/latency"}
    assert ok.exit_code == 2


def test_nothing_known_exits_4_and_says_what_was_looked_for(cli: CliRunner,
                                                            history_end: datetime) -> None:
    long_before = history_end - timedelta(days=2)
    result = cli.invoke(app, ["discover", "--at", long_before.isoformat()])
    assert result.exit_code == 4
    assert "no known metrics" in result.stderr
    assert "http_server_request_duration_seconds" in result.stderr
    assert "traces_span_metrics_duration_seconds" in result.stderr


def test_unreachable_prometheus_exits_3_with_the_url(cli: CliRunner,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", "http://127.0.0.1:1")
    result = cli.invoke(app, ["discover"])
    assert result.exit_code == 3
    assert "http://127.0.0.1:1" in result.stderr


def test_validate_live_unreachable_exits_3_with_the_url(
    cli: CliRunner, history_end: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "starter.yaml"
    wrote = cli.invoke(app, ["discover", "--at", history_end.isoformat(), "--write", str(spec)])
    assert wrote.exit_code == 0, wrote.output
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", "http://127.0.0.1:1")
    result = cli.invoke(app, ["validate", "--live", str(spec)])
    assert result.exit_code == 3
    assert "http://127.0.0.1:1" in result.stderr
