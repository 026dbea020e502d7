"""Real components on loopback: Prometheus rules -> Alertmanager -> sloctl's webhook receiver.

(a) A breaching service fires a Prometheus rule; Alertmanager delivers it; sloctl records an open
incident whose start is Prometheus' activeAt. The breach ends; the incident is resolved.
(b) The receiver is stopped while Alertmanager delivers; after it is back on the same port, every
alert was recorded exactly once (Alertmanager retries on connection errors).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import AwareDatetime, TypeAdapter

from sloctl.demo.alertmanager_server import AlertmanagerServer
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.runtime.http import WEBHOOK_PATH, HttpServer
from sloctl.runtime.incidents import incidents as incidents_of
from sloctl.settings import Settings
from sloctl.store import Store
from sloctl.store.alerts import Alerts
from tests.support.processes import wait_until

TOKEN = "e2e-token"
TIMEOUT = 60.0
RULES = """\
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: ServiceErrorRatioHigh
        expr: e2e_error_ratio > 0.005
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.service }} answers {{ $value }} of its requests with an error"
"""
TIME = TypeAdapter(AwareDatetime)


class GaugeExporter:
    """``e2e_error_ratio{service="checkout"} <value>`` on /metrics; ``value`` can be changed."""

    def __init__(self) -> None:
        self.value = 0.0
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f'e2e_error_ratio{{service="checkout"}} {exporter.value}\n'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.target = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> GaugeExporter:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def settings_for(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "store_url": f"sqlite:///{tmp_path / 'sloctl.db'}",
            "receiver": {"host": "127.0.0.1", "port": 0, "token": TOKEN},
        }
    )


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[HttpServer, Alerts]]:
    settings = settings_for(tmp_path)
    with Store(settings.store_url) as store:
        server = HttpServer(settings, store)
        try:
            server.start()
            yield server, store.alerts
        finally:
            server.stop()


def prometheus_active_at(prom: PrometheusServer) -> datetime | None:
    with urllib.request.urlopen(f"{prom.url}/api/v1/alerts", timeout=5) as resp:
        alerts = json.loads(resp.read())["data"]["alerts"]
    firing = [a for a in alerts if a["state"] == "firing"]
    if not firing:
        return None
    at = TIME.validate_python(firing[0]["activeAt"]).astimezone(UTC)
    # Prometheus posts alerts to Alertmanager with millisecond precision (API v2 date-time).
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


@pytest.mark.integration
def test_breach_becomes_incident_and_recovery_resolves_it(
    tmp_path: Path, receiver: tuple[HttpServer, Alerts]
) -> None:
    server, log = receiver
    rules = tmp_path / "e2e-rules.yml"
    rules.write_text(RULES)
    settings = settings_for(tmp_path)
    with (
        GaugeExporter() as exporter,
        AlertmanagerServer(
            tmp_path / "am", webhook_url=server.url + WEBHOOK_PATH, token=TOKEN
        ) as am,
        PrometheusServer(
            tmp_path / "prom",
            scrape_targets=[exporter.target],
            scrape_interval="1s",
            evaluation_interval="1s",
            rule_files=[rules],
            alertmanagers=[am.target],
        ) as prom,
    ):
        exporter.value = 0.2  # 20 % errors: breaching
        active_at = wait_until(lambda: prometheus_active_at(prom), TIMEOUT, "Prometheus firing")
        [alert] = wait_until(lambda: log.firing() or None, TIMEOUT, "alert received by sloctl")
        assert (alert.alertname, alert.service, alert.severity) == (
            "ServiceErrorRatioHigh",
            "checkout",
            "critical",
        )
        assert "g0.expr=e2e_error_ratio" in alert.generator_url  # it came from the rule
        assert alert.starts_at == active_at
        [incident] = incidents_of(log, settings.incidents, now=datetime.now(UTC))
        assert (incident.service, incident.start, incident.end, incident.severity) == (
            "checkout",
            active_at,
            None,
            "critical",
        )
        assert incident.alerts == ("ServiceErrorRatioHigh",)

        exporter.value = 0.0  # recovered
        wait_until(lambda: [] if not log.firing() else None, TIMEOUT, "resolved notification")
        [resolved] = log.received()
        assert resolved.status == "resolved"
        assert resolved.ends_at is not None and resolved.ends_at > active_at
        [incident] = incidents_of(log, settings.incidents, now=datetime.now(UTC))
        assert (incident.service, incident.start, incident.end, incident.open) == (
            "checkout",
            active_at,
            resolved.ends_at,
            False,
        )
        assert incident.duration_seconds == (resolved.ends_at - active_at).total_seconds()
        assert log.count() == 1


def am_alert(
    name: str, service: str, i: int, starts: datetime, ends: datetime | None = None
) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "labels": {"alertname": name, "service": service, "severity": "page", "instance": f"i{i}"},
        "annotations": {"summary": f"{name} {service} {i}"},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
    }
    if ends is not None:
        alert["endsAt"] = ends.isoformat().replace("+00:00", "Z")
    return alert


@pytest.mark.integration
def test_receiver_down_during_delivery_loses_and_duplicates_nothing(
    tmp_path: Path, receiver: tuple[HttpServer, Alerts]
) -> None:
    server, log = receiver
    port = server.port
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    first = [am_alert("Phase1", "checkout", i, starts) for i in range(10)]
    second = [am_alert("Phase2", svc, i, starts) for svc in ("cart", "payment") for i in range(10)]
    with AlertmanagerServer(
        tmp_path / "am", webhook_url=server.url + WEBHOOK_PATH, token=TOKEN
    ) as am:
        am.post_alerts(first)
        wait_until(lambda: log.count() == 10 or None, TIMEOUT, "first 10 alerts recorded")

        server.stop()
        resolve_at = datetime.now(UTC).replace(microsecond=0)
        am.post_alerts(
            second + [am_alert("Phase1", "checkout", i, starts, resolve_at) for i in range(5)]
        )
        failed = "alertmanager_notifications_failed_total"
        wait_until(
            lambda: am.metric(failed, integration="webhook") > 0 or None,
            TIMEOUT,
            "a failed webhook delivery while the receiver is down",
        )
        assert log.count() == 10  # nothing arrived while it was down

        server.start()
        assert server.port == port
        wait_until(
            lambda: (log.count() == 30 and len(log.firing()) == 25) or None,
            TIMEOUT,
            "every alert recorded after the receiver is back",
        )
    rows = log.received()
    keys = [(a.fingerprint, a.starts_at) for a in rows]
    assert len(keys) == len(set(keys)) == 30
    assert {a.starts_at for a in rows} == {starts}
    resolved = sorted(a.labels["instance"] for a in rows if a.status == "resolved")
    assert resolved == ["i0", "i1", "i2", "i3", "i4"]
    assert all(a.ends_at == resolve_at for a in rows if a.status == "resolved")
    by_service = sorted((a.service, a.alertname) for a in rows)
    assert by_service == sorted(
        [("checkout", "Phase1")] * 10 + [("cart", "Phase2")] * 10 + [("payment", "Phase2")] * 10
    )
