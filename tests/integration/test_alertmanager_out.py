"""sloctl's own alerts reach Debian's real Alertmanager 0.25 (API v2) on loopback.

Firing alerts appear in ``GET /api/v2/alerts`` with our labels, annotations and times; a resolved
alert disappears there and Alertmanager notifies its webhook with the resolution; an Alertmanager
that is down (or hangs) never blocks ``submit``/``close`` and gets the alerts once it is back.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.demo.alertmanager_server import AlertmanagerServer
from sloctl.demo.process import free_port
from sloctl.runtime.alertmanager import AlertmanagerNotifier, build_alerts
from sloctl.settings import AlertmanagerSettings
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

DASHBOARD = "http://127.0.0.1:8501"
RUNBOOKS = "https://example.org/runbooks.md"
INTERVAL = 5  # seconds between cycles: firing alerts stay valid for 4 x 5 s


class Webhook:
    """A webhook receiver on 127.0.0.1 that records every notification body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def alerts(self, status: str, alertname: str, service: str) -> list[dict[str, Any]]:
        return [
            a
            for body in list(self.bodies)
            for a in body["alerts"]
            if a["status"] == status
            and a["labels"]["alertname"] == alertname
            and a["labels"]["service"] == service
        ]


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    hook.thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()


@pytest.fixture(scope="module")
def alertmanager(
    tmp_path_factory: pytest.TempPathFactory, webhook: Webhook
) -> Iterator[AlertmanagerServer]:
    data = tmp_path_factory.mktemp("alertmanager-out")
    with AlertmanagerServer(data, webhook_url=webhook.url, token="test-token") as am:
        yield am


def make_notifier(url: str, *, timeout: float = 5.0) -> AlertmanagerNotifier:
    return AlertmanagerNotifier(
        AlertmanagerSettings(url=url, timeout_seconds=timeout, runbook_url=RUNBOOKS),
        dashboard_url=DASHBOARD,
        interval_seconds=INTERVAL,
        retry_initial_seconds=0.2,
    )


def alert(
    rule: str,
    service: str,
    state: AlertState,
    *,
    value: float,
    fired: datetime,
    resolved: datetime | None = None,
) -> AlertStatus:
    return AlertStatus(
        key=f"default:{rule}/{service}",
        rule=rule,
        service=service,
        slo_id=None,
        severity="warning",
        state=state,
        value=value,
        threshold=0.005 if rule == "error_ratio" else 0.3,
        active_since=fired - timedelta(minutes=5),
        fired_at=fired,
        resolved_at=resolved,
        updated_at=resolved or fired,
        labels={"service": service, "severity": "warning", "window": "5m"},  # as evaluated
    )


def evaluation(at: datetime, *alerts: AlertStatus) -> Evaluation:
    return Evaluation(
        at=at, started_at=at, finished_at=at, slos=(), signals=(), alerts=alerts, query_count=0
    )


def now_ms() -> datetime:
    """Now, UTC, whole milliseconds (the resolution Alertmanager keeps)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def held(am: AlertmanagerServer, alertname: str) -> list[dict[str, Any]]:
    return [a for a in am.alerts() if a["labels"]["alertname"] == alertname]


def test_firing_alert_is_listed_with_our_labels_annotations_and_times(
    alertmanager: AlertmanagerServer,
) -> None:
    fired = now_ms() - timedelta(minutes=3)
    ev = evaluation(
        now_ms(), alert("latency_p95", "cart", AlertState.FIRING, value=0.4764, fired=fired)
    )
    with make_notifier(alertmanager.url) as notifier:
        notifier.submit(ev)
        assert notifier.flush(20)
    (got,) = wait_until(lambda: held(alertmanager, "ServiceLatencyP95High") or None, 10, "alert")
    assert got["labels"] == {  # exactly those of the generated Prometheus rule: one identity
        "alertname": "ServiceLatencyP95High",
        "service": "cart",
        "severity": "warning",
    }
    assert got["annotations"] == {
        "summary": "cart: p95 latency above 300 ms over 5m",
        "description": "cart: p95 latency 476 ms vs 300 ms over 5m",
        "runbook_url": f"{RUNBOOKS}#servicelatencyp95high",
        "dashboard": DASHBOARD,
    }
    assert got["status"]["state"] == "active"
    assert got["generatorURL"] == DASHBOARD
    assert parse(got["startsAt"]) == fired
    assert parse(got["endsAt"]) == ev.finished_at + timedelta(seconds=4 * INTERVAL)
    assert notifier.stats.sent == 1 and notifier.stats.failed == 0


def test_resolved_alert_is_resolved_and_notified(
    alertmanager: AlertmanagerServer, webhook: Webhook
) -> None:
    fired = now_ms() - timedelta(minutes=2)
    firing = alert("error_ratio", "order", AlertState.FIRING, value=0.0121, fired=fired)
    name = "ServiceErrorRatioHigh"
    with make_notifier(alertmanager.url) as notifier:
        notifier.submit(evaluation(now_ms(), firing))
        wait_until(
            lambda: webhook.alerts("firing", name, "order") or None, 20, "the firing notification"
        )
        resolved_at = now_ms() - timedelta(milliseconds=10)
        resolved = alert(
            "error_ratio",
            "order",
            AlertState.RESOLVED,
            value=0.001,
            fired=fired,
            resolved=resolved_at,
        )
        notifier.submit(evaluation(resolved_at, resolved))
        (note,) = wait_until(
            lambda: webhook.alerts("resolved", name, "order") or None,
            20,
            "the resolved notification",
        )
        assert notifier.stats.sent == 2 and notifier.stats.pending_resolved == 0
    assert held(alertmanager, name) == []  # 0.25 lists no resolved alerts, even with active=false
    assert note["labels"]["service"] == "order"
    assert parse(note["startsAt"]) == fired
    assert parse(note["endsAt"]) == resolved_at
    assert note["annotations"]["description"] == "order: error ratio 0.10 % vs 0.50 % over 5m"


def test_a_payload_alertmanager_rejects_is_dropped_not_retried(
    alertmanager: AlertmanagerServer,
) -> None:
    fired = now_ms()
    bad = alert(  # resolved before it fired: "start time must be before end time"
        "error_ratio",
        "bad",
        AlertState.RESOLVED,
        value=0.0,
        fired=fired,
        resolved=fired - timedelta(minutes=1),
    )
    with make_notifier(alertmanager.url) as notifier:
        notifier.submit(evaluation(fired, bad))
        assert notifier.flush(20)
        stats = notifier.stats
    assert (stats.rejected, stats.sent, stats.failed, stats.pending_resolved) == (1, 0, 0, 0)
    assert stats.last_error is not None
    assert (
        "HTTP 400" in stats.last_error and "start time must be before end time" in stats.last_error
    )


def test_alertmanager_down_then_back_gets_firing_and_resolved_alerts(
    tmp_path: Path, webhook: Webhook
) -> None:
    am = AlertmanagerServer(tmp_path / "am", webhook_url=webhook.url, token="t", port=free_port())
    fired = now_ms() - timedelta(minutes=1)
    firing = alert("error_ratio", "payment", AlertState.FIRING, value=0.05, fired=fired)
    name = "ServiceErrorRatioHigh"
    notifier = make_notifier(am.url)
    try:
        notifier.submit(evaluation(now_ms(), firing))  # Alertmanager is not running yet
        wait_until(lambda: notifier.stats.failed or None, 10, "a failed attempt")
        am.start()  # same port: the retry delivers it without another submit
        (got,) = wait_until(lambda: held(am, name) or None, 20, "the retried firing alert")
        assert got["labels"]["service"] == "payment"
        assert notifier.stats.sent == 1

        am.stop()
        failed = notifier.stats.failed
        resolved_at = now_ms()
        resolved = alert(
            "error_ratio",
            "payment",
            AlertState.RESOLVED,
            value=0.001,
            fired=fired,
            resolved=resolved_at,
        )
        notifier.submit(evaluation(resolved_at, resolved))
        later = resolved_at + timedelta(seconds=INTERVAL)
        notifier.submit(
            evaluation(
                later,
                alert("error_ratio", "payment", AlertState.INACTIVE, value=0.001, fired=fired),
            )
        )
        wait_until(lambda: notifier.stats.failed > failed or None, 10, "a failed attempt")
        assert notifier.stats.pending_resolved == 1
        am.start()  # a fresh process: it counts what it receives
        wait_until(
            lambda: am.metric("alertmanager_alerts_received_total", status="resolved") or None,
            20,
            "the resolved alert after the restart",
        )
        assert am.metric("alertmanager_alerts_received_total", status="firing") == 0
        assert notifier.stats.pending_resolved == 0
        assert held(am, name) == []
    finally:
        notifier.close()
        am.stop()


def test_submit_and_close_never_wait_for_a_hanging_alertmanager() -> None:
    """A listener that accepts connections but never answers: requests hang until the timeout."""
    timeout = 5.0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(8)
        url = f"http://127.0.0.1:{hanging.getsockname()[1]}"
        notifier = make_notifier(url, timeout=timeout)
        fired = now_ms()
        ev = evaluation(
            fired, alert("error_ratio", "slow", AlertState.FIRING, value=1.0, fired=fired)
        )
        body = build_alerts(ev, dashboard_url=DASHBOARD, runbook_url=RUNBOOKS)
        assert len(body) == 1
        started = time.monotonic()
        notifier.submit(ev)
        notifier.submit(ev)
        submitting = time.monotonic() - started
        assert not notifier.flush(0.2)  # the first request hangs: nothing delivered
        started = time.monotonic()
        notifier.close(timeout=0.5)
        closing = time.monotonic() - started
    # generous bounds: both must return well before the configured HTTP timeout
    assert submitting < timeout / 2
    assert closing < timeout / 2
    assert notifier.stats.sent == 0
