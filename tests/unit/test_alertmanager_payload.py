"""Alertmanager API v2 payloads built from known evaluations, and what the notifier delivers.

Delivery tests use ``httpx.MockTransport`` (an in-process fake Alertmanager): they check the
exact bodies posted, the retry of 5xx/unreachable, the drop of 4xx, coalescing, and that resolved
alerts survive an outage. The real Alertmanager is exercised in tests/integration.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.errors import SettingsError
from sloctl.runtime.alertmanager import (
    AlertmanagerNotifier,
    alert_labels,
    alert_name,
    build_alerts,
    notifier_from_settings,
    summary_and_description,
)
from sloctl.settings import AlertmanagerSettings, Settings
from tests.support.processes import wait_until

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DASHBOARD = "http://127.0.0.1:8501"
RUNBOOKS = "https://example.org/runbooks.md"
AM_URL = "http://127.0.0.1:9093"
FIRING, RESOLVED, PENDING, INACTIVE = (
    AlertState.FIRING,
    AlertState.RESOLVED,
    AlertState.PENDING,
    AlertState.INACTIVE,
)


def status(
    key: str,
    rule: str,
    state: AlertState,
    *,
    value: float | None,
    threshold: float,
    service: str = "checkout",
    slo_id: str | None = None,
    severity: str = "warning",
    fired: datetime | None = None,
    resolved: datetime | None = None,
    reason: str | None = None,
    labels: dict[str, str] | None = None,
) -> AlertStatus:
    return AlertStatus(
        key=key,
        rule=rule,
        service=service,
        slo_id=slo_id,
        severity=severity,
        state=state,
        value=value,
        threshold=threshold,
        active_since=(fired - timedelta(minutes=5)) if fired else None,
        fired_at=fired,
        resolved_at=resolved,
        updated_at=T0,
        reason=reason,
        labels=labels or {},
    )


def error_ratio(
    state: AlertState,
    value: float | None = 0.0121,
    *,
    fired: datetime | None = None,
    resolved: datetime | None = None,
    reason: str | None = None,
) -> AlertStatus:
    return status(
        "default:error_ratio/checkout",
        "error_ratio",
        state,
        value=value,
        threshold=0.005,
        fired=fired,
        resolved=resolved,
        reason=reason,
        labels={"window": "5m"},
    )


def burn(
    severity: str,
    state: AlertState,
    value: float,
    windows: tuple[str, str],
    *,
    fired: datetime | None = None,
    resolved: datetime | None = None,
) -> AlertStatus:
    return status(
        f"burn_rate:{severity}/checkout/availability",
        f"slo_burn_rate_{severity}",
        state,
        value=value,
        threshold=14.4 if severity == "page" else 3.0,
        slo_id="checkout/availability",
        severity=severity,
        fired=fired,
        resolved=resolved,
        labels={  # as the evaluator builds them: identity labels, then the window context
            "sloth_id": "checkout-availability",
            "sloth_service": "checkout",
            "sloth_slo": "availability",
            "service": "checkout",
            "slo": "availability",
            "severity": severity,
            "sloth_severity": severity,
            "long_window": windows[0],
            "short_window": windows[1],
        },
    )


def evaluation(*alerts: AlertStatus, at: datetime = T0) -> Evaluation:
    return Evaluation(
        at=at,
        started_at=at + timedelta(seconds=1),
        finished_at=at + timedelta(seconds=2, microseconds=250_000),
        slos=(),
        signals=(),
        alerts=alerts,
    )


KNOWN = evaluation(
    error_ratio(FIRING, fired=T0 - timedelta(minutes=5)),
    status(
        "default:latency_p95/cart",
        "latency_p95",
        PENDING,
        value=0.41,
        threshold=0.3,
        service="cart",
        labels={"window": "5m"},
    ),
    status(
        "default:latency_p95/order",
        "latency_p95",
        INACTIVE,
        value=0.12,
        threshold=0.3,
        service="order",
        labels={"window": "5m"},
    ),
    burn("page", FIRING, 14.94, ("1h", "5m"), fired=T0 - timedelta(minutes=2)),
    burn("ticket", RESOLVED, 1.2, ("1d", "2h"), fired=T0 - timedelta(hours=1), resolved=T0),
)

EXPECTED = [
    {
        # exactly the labels of the generated Prometheus rule (one identity, deduplicated)
        "labels": {
            "alertname": "ServiceErrorRatioHigh",
            "service": "checkout",
            "severity": "warning",
        },
        "annotations": {
            "summary": "checkout: error ratio above 0.5 % over 5m",
            "description": "checkout: error ratio 1.21 % vs 0.50 % over 5m",
            "runbook_url": f"{RUNBOOKS}#serviceerrorratiohigh",
            "dashboard": DASHBOARD,
        },
        "startsAt": "2025-03-01T11:55:00.000Z",
        "endsAt": "2025-03-01T12:04:02.250Z",  # finished_at + 4 x 60 s
    },
    {
        "labels": {
            "alertname": "SLOBurnRatePage",
            "service": "checkout",
            "severity": "page",
            "slo": "availability",
            "sloth_id": "checkout-availability",
            "sloth_service": "checkout",
            "sloth_severity": "page",
            "sloth_slo": "availability",
        },
        "annotations": {
            "summary": "checkout/availability is burning its error budget too fast (page)",
            "description": "checkout/availability: burn 14.9x vs 14.4x over 1h/5m",
            "runbook_url": f"{RUNBOOKS}#sloburnratepage",
            "dashboard": DASHBOARD,
        },
        "startsAt": "2025-03-01T11:58:00.000Z",
        "endsAt": "2025-03-01T12:04:02.250Z",
    },
    {
        "labels": {
            "alertname": "SLOBurnRateTicket",
            "service": "checkout",
            "severity": "ticket",
            "slo": "availability",
            "sloth_id": "checkout-availability",
            "sloth_service": "checkout",
            "sloth_severity": "ticket",
            "sloth_slo": "availability",
        },
        "annotations": {
            "summary": "checkout/availability is burning its error budget too fast (ticket)",
            "description": "checkout/availability: burn 1.2x vs 3.0x over 1d/2h",
            "runbook_url": f"{RUNBOOKS}#sloburnrateticket",
            "dashboard": DASHBOARD,
        },
        "startsAt": "2025-03-01T11:00:00.000Z",
        "endsAt": "2025-03-01T12:00:00.000Z",  # resolved_at
    },
]


def test_payload_of_a_known_evaluation_is_exact() -> None:
    body = build_alerts(
        KNOWN, dashboard_url=DASHBOARD, runbook_url=RUNBOOKS, valid_for=timedelta(minutes=4)
    )
    assert body == EXPECTED


def test_pending_and_inactive_alerts_are_not_sent() -> None:
    body = build_alerts(KNOWN, dashboard_url=DASHBOARD, runbook_url=RUNBOOKS)
    assert [a["labels"]["service"] for a in body] == ["checkout"] * 3
    assert build_alerts(evaluation(*KNOWN.alerts[1:3]), dashboard_url="x", runbook_url="y") == []


def test_without_valid_for_firing_alerts_have_no_ends_at_and_generator_url_is_passed() -> None:
    body = build_alerts(
        KNOWN, dashboard_url=DASHBOARD, runbook_url=RUNBOOKS, generator_url="http://gen/x?a=1&b"
    )
    assert ["endsAt" in a for a in body] == [False, False, True]
    assert body[2]["endsAt"] == "2025-03-01T12:00:00.000Z"
    assert {a["generatorURL"] for a in body} == {"http://gen/x?a=1&b"}


@pytest.mark.parametrize(
    ("alert", "summary", "description"),
    [
        pytest.param(
            error_ratio(FIRING, value=0.0121),
            "checkout: error ratio above 0.5 % over 5m",
            "checkout: error ratio 1.21 % vs 0.50 % over 5m",
            id="error-ratio-percent",
        ),
        pytest.param(
            error_ratio(FIRING, value=None, reason="prometheus: connection refused"),
            "checkout: error ratio above 0.5 % over 5m",
            "checkout: error ratio unknown vs 0.50 % over 5m (prometheus: connection refused)",
            id="error-ratio-unknown-with-reason",
        ),
        pytest.param(
            status(
                "default:latency_p95/checkout",
                "latency_p95",
                FIRING,
                value=0.4764,
                threshold=0.3,
                labels={"window": "10m"},
            ),
            "checkout: p95 latency above 300 ms over 10m",
            "checkout: p95 latency 476 ms vs 300 ms over 10m",
            id="latency-milliseconds",
        ),
        pytest.param(
            burn("page", FIRING, 14.94, ("6h", "30m")),
            "checkout/availability is burning its error budget too fast (page)",
            "checkout/availability: burn 14.9x vs 14.4x over 6h/30m",
            id="burn-rate-windows",
        ),
        pytest.param(
            status("custom:queue/checkout", "queue_depth", FIRING, value=1234.4, threshold=1000),
            "checkout: queue_depth above 1000",
            "checkout: queue_depth 1234 vs 1000",
            id="unknown-rule-generic",
        ),
    ],
)
def test_summary_and_description(alert: AlertStatus, summary: str, description: str) -> None:
    assert summary_and_description(alert) == (summary, description)


@pytest.mark.parametrize(
    ("rule", "name"),
    [
        pytest.param("error_ratio", "ServiceErrorRatioHigh", id="error-ratio"),
        pytest.param("latency_p95", "ServiceLatencyP95High", id="latency"),
        pytest.param("slo_burn_rate_page", "SLOBurnRatePage", id="page"),
        pytest.param("slo_burn_rate_ticket", "SLOBurnRateTicket", id="ticket"),
        pytest.param("slo_metric_absent", "SLOMetricAbsent", id="absent"),
        pytest.param("queue_depth", "SloctlQueueDepth", id="other-rule"),
    ],
)
def test_alert_names(rule: str, name: str) -> None:
    assert alert_name(rule) == name


def test_labels_stay_the_same_when_the_worst_window_pair_changes() -> None:
    """Alertmanager keys alerts by labels: firing and resolved must carry the same set."""
    fired = burn("page", FIRING, 15.0, ("1h", "5m"), fired=T0)
    resolved = burn("page", RESOLVED, 2.0, ("6h", "30m"), fired=T0, resolved=T0)
    assert alert_labels(fired) == alert_labels(resolved)
    assert "long_window" not in alert_labels(fired)


def test_own_labels_cannot_override_identity_labels() -> None:
    alert = status(
        "default:error_ratio/checkout",
        "error_ratio",
        FIRING,
        value=0.1,
        threshold=0.005,
        labels={"team": "payments", "service": "spoofed", "source": "other", "empty": ""},
    )
    assert alert_labels(alert) == {
        "alertname": "ServiceErrorRatioHigh",
        "service": "checkout",
        "severity": "warning",
        "source": "other",
        "team": "payments",
    }


# -- the notifier against an in-process fake Alertmanager --------------------------------------


class FakeAlertmanager:
    """Answers POSTs with scripted outcomes; records every body it received."""

    def __init__(self) -> None:
        self.bodies: list[list[dict[str, object]]] = []
        self.answers: list[int | Exception] = []  # consumed in order; then 200
        self.down = False
        self.in_flight = threading.Event()
        self.release: threading.Event | None = None  # when set, requests wait for it
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert str(request.url) == f"{AM_URL}/api/v2/alerts"
        with self.lock:
            self.bodies.append(json.loads(request.content))
        self.in_flight.set()
        if self.release is not None:
            self.release.wait(10)
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        text = '"start time must be before end time"' if answer == 400 else ""
        return httpx.Response(answer, text=text)


@pytest.fixture
def fake() -> FakeAlertmanager:
    return FakeAlertmanager()


@pytest.fixture
def notifier(fake: FakeAlertmanager) -> Iterator[Callable[[], AlertmanagerNotifier]]:
    made: list[AlertmanagerNotifier] = []

    def make() -> AlertmanagerNotifier:
        n = AlertmanagerNotifier(
            AlertmanagerSettings(url=AM_URL, runbook_url=RUNBOOKS),
            dashboard_url=DASHBOARD,
            interval_seconds=60,
            retry_initial_seconds=0.01,
            transport=httpx.MockTransport(fake.handle),
        )
        made.append(n)
        return n

    yield make
    if fake.release is not None:
        fake.release.set()
    for n in made:
        n.close()


def test_notifier_posts_the_built_payload(
    fake: FakeAlertmanager, notifier: Callable[[], AlertmanagerNotifier]
) -> None:
    n = notifier()
    n.submit(KNOWN)
    assert n.flush(10)
    expected = [dict(a, generatorURL=DASHBOARD) for a in EXPECTED]
    assert fake.bodies == [expected]
    stats = n.stats
    assert (stats.submitted, stats.sent, stats.failed, stats.pending_resolved) == (1, 1, 0, 0)


def test_nothing_to_send_makes_no_request(
    fake: FakeAlertmanager, notifier: Callable[[], AlertmanagerNotifier]
) -> None:
    n = notifier()
    n.submit(evaluation(*KNOWN.alerts[1:3]))  # pending and inactive only
    assert n.flush(10)
    assert fake.bodies == []


def test_server_errors_are_retried_with_the_same_body(
    fake: FakeAlertmanager, notifier: Callable[[], AlertmanagerNotifier]
) -> None:
    fake.answers = [500, httpx.ReadTimeout("timed out"), 200]
    n = notifier()
    n.submit(KNOWN)
    assert n.flush(10)
    assert len(fake.bodies) == 3
    assert fake.bodies[0] == fake.bodies[1] == fake.bodies[2]
    assert (n.stats.failed, n.stats.sent) == (2, 1)
    assert n.stats.last_error == (  # the last failure was the timeout, in sloctl's words
        f"alertmanager: POST of 3 alerts: no answer from {AM_URL}/api/v2/alerts within 5 s; "
        "raise alertmanager.timeout_seconds or check Alertmanager"
    )


def test_a_rejected_payload_is_logged_and_not_retried(
    fake: FakeAlertmanager,
    notifier: Callable[[], AlertmanagerNotifier],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.answers = [400]
    n = notifier()
    with caplog.at_level(logging.ERROR, logger="sloctl.runtime.alertmanager"):
        n.submit(KNOWN)
        assert n.flush(10)
    assert len(fake.bodies) == 1
    assert (n.stats.rejected, n.stats.sent, n.stats.pending_resolved) == (1, 0, 0)
    assert "HTTP 400" in caplog.text and "start time must be before end time" in caplog.text


def test_a_resolution_during_an_outage_is_delivered_after_recovery(
    fake: FakeAlertmanager, notifier: Callable[[], AlertmanagerNotifier]
) -> None:
    fake.down = True
    fake.release = threading.Event()  # hold the first attempt until every state is submitted
    n = notifier()
    fired = T0 - timedelta(minutes=10)
    n.submit(evaluation(error_ratio(FIRING, fired=fired)))
    assert fake.in_flight.wait(10)
    resolved = error_ratio(RESOLVED, value=0.001, fired=fired, resolved=T0)
    n.submit(evaluation(resolved, at=T0))
    n.submit(evaluation(error_ratio(INACTIVE, value=0.001), at=T0 + timedelta(minutes=1)))
    assert n.stats.pending_resolved == 1
    fake.release.set()  # the held attempt fails, then the newest state fails and is retried
    wait_until(lambda: True if n.stats.failed >= 3 else None, 10, "three failed attempts")
    fake.down = False
    assert n.flush(10)
    # the first (failed) attempt carried the firing alert; the delivered one only the resolution
    assert [(a["startsAt"], a["endsAt"]) for a in fake.bodies[0]] == [
        ("2025-03-01T11:50:00.000Z", "2025-03-01T12:04:02.250Z")
    ]
    assert fake.bodies[-1] == [
        dict(
            build_alerts(evaluation(resolved), dashboard_url=DASHBOARD, runbook_url=RUNBOOKS)[0],
            generatorURL=DASHBOARD,
        )
    ]
    assert fake.bodies[-1][0]["endsAt"] == "2025-03-01T12:00:00.000Z"
    assert (n.stats.sent, n.stats.pending_resolved) == (1, 0)
    assert n.stats.failed >= 1
    n.submit(evaluation(error_ratio(INACTIVE, value=0.001), at=T0 + timedelta(minutes=2)))
    assert n.flush(10)
    assert n.stats.sent == 1  # delivered once: nothing left to send


def test_only_the_newest_state_is_sent_after_a_slow_request(
    fake: FakeAlertmanager, notifier: Callable[[], AlertmanagerNotifier]
) -> None:
    fake.release = threading.Event()
    n = notifier()
    states = [
        evaluation(error_ratio(FIRING, value=v, fired=T0), at=T0 + timedelta(minutes=i))
        for i, v in enumerate((0.01, 0.02, 0.03))
    ]
    n.submit(states[0])
    assert fake.in_flight.wait(10)
    n.submit(states[1])  # returns while the first request is still in flight
    n.submit(states[2])
    fake.release.set()
    assert n.flush(10)
    described = [b[0]["annotations"] for b in fake.bodies]
    assert [d["description"] for d in described] == [  # type: ignore[index]
        "checkout: error ratio 1.00 % vs 0.50 % over 5m",
        "checkout: error ratio 3.00 % vs 0.50 % over 5m",
    ]


def test_refiring_drops_the_unsent_resolution(
    fake: FakeAlertmanager, notifier: Callable[[], AlertmanagerNotifier]
) -> None:
    fake.release = threading.Event()
    n = notifier()
    n.submit(evaluation(error_ratio(FIRING, fired=T0)))
    assert fake.in_flight.wait(10)
    n.submit(evaluation(error_ratio(RESOLVED, fired=T0, resolved=T0 + timedelta(minutes=1))))
    refired = T0 + timedelta(minutes=2)
    n.submit(evaluation(error_ratio(FIRING, fired=refired), at=refired))
    fake.release.set()
    assert n.flush(10)
    assert len(fake.bodies[-1]) == 1
    assert fake.bodies[-1][0]["startsAt"] == "2025-03-01T12:02:00.000Z"
    assert n.stats.pending_resolved == 0


def test_close_does_not_wait_for_a_hanging_request(
    fake: FakeAlertmanager, notifier: Callable[[], AlertmanagerNotifier]
) -> None:
    fake.release = threading.Event()  # never set before close(): the request hangs
    n = notifier()
    n.submit(KNOWN)
    assert fake.in_flight.wait(10)
    n.close(timeout=0.05)
    assert not n.flush(0)  # returned although the request is still in flight
    n.submit(KNOWN)  # ignored after close
    assert n.stats.submitted == 1


def test_notifier_needs_a_url() -> None:
    with pytest.raises(SettingsError, match="SLOCTL_ALERTMANAGER_URL"):
        AlertmanagerNotifier(AlertmanagerSettings(), dashboard_url=DASHBOARD, interval_seconds=60)
    assert notifier_from_settings(Settings()) is None
    n = notifier_from_settings(Settings(alertmanager=AlertmanagerSettings(url=AM_URL)))
    assert n is not None
    try:
        assert n.url == f"{AM_URL}/api/v2/alerts"
        assert n.valid_for == timedelta(seconds=240)
    finally:
        n.close()
