"""The Alertmanager webhook over HTTP (FastAPI TestClient): auth, limits, validation, storage."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sloctl.runtime.http import WEBHOOK_PATH, create_app
from sloctl.settings import Settings
from sloctl.store import Store
from sloctl.store.alerts import Alerts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alertmanager"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RECEIVED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    if name.startswith("webhook_firing_2alerts_kubesphere"):
        # The source capture predates these fields; Alertmanager >= 0.21 always sends them.
        body.update(version="4", groupKey='{}:{alertname="KubePodNotReady"}', truncatedAlerts=0)
    return body


def make_settings(tmp_path: Path, token: str | None = TOKEN, max_body: int = 1_048_576) -> Settings:
    receiver: dict[str, Any] = {"max_body_bytes": max_body}
    if token is not None:
        receiver["token"] = token
    return Settings.model_validate(
        {"store_url": f"sqlite:///{tmp_path / 'sloctl.db'}", "receiver": receiver}
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'sloctl.db'}") as s:
        yield s


@pytest.fixture
def client(tmp_path: Path, store: Store) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path), store, clock=lambda: RECEIVED)
    with TestClient(app) as c:
        yield c


def stored(store: Store) -> list[tuple[str, str, datetime, datetime | None]]:
    return [(a.fingerprint, a.status, a.starts_at, a.ends_at) for a in store.alerts.received()]


def notifications(store: Store) -> int:
    from sqlalchemy import func, select

    from sloctl.store.schema import am_notifications

    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(am_notifications)) or 0)


def post(client: TestClient, body: Any, headers: dict[str, str] | None = None) -> Any:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        WEBHOOK_PATH,
        content=data,
        headers={"Content-Type": "application/json", **AUTH, **(headers or {})},
    )


# -- accepted bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "am025_firing.json",
            [
                (
                    "ebb1fe80b92a0f50",
                    "firing",
                    datetime(2026, 11, 27, 8, 37, 37, 368000, tzinfo=UTC),
                    None,
                )
            ],
            id="am025-firing",
        ),
        pytest.param(
            "am025_resolved.json",
            [
                (
                    "ebb1fe80b92a0f50",
                    "resolved",
                    datetime(2026, 11, 27, 8, 37, 37, 368000, tzinfo=UTC),
                    datetime(2026, 11, 27, 8, 37, 42, 252000, tzinfo=UTC),
                )
            ],
            id="am025-resolved",
        ),
        pytest.param(
            "am025_from_prometheus_rule.json",
            [
                (
                    "7fd583bd6b180330",
                    "firing",
                    datetime(2026, 11, 27, 8, 38, 30, 690000, tzinfo=UTC),
                    None,
                )
            ],
            id="am025-from-prometheus-rule",
        ),
        pytest.param(
            "webhook_firing_2alerts_kubesphere_captured.json",
            [
                (
                    "6362d3bf47e6c5a5",
                    "firing",
                    datetime(2020, 2, 26, 7, 4, 4, 989876, tzinfo=UTC),
                    None,
                ),
                (
                    "3e0404fc5e56b99d",
                    "firing",
                    datetime(2020, 2, 26, 7, 4, 4, 989876, tzinfo=UTC),
                    None,
                ),
            ],
            id="kubesphere-nanoseconds-truncated",
        ),
    ],
)
def test_recorded_fixtures_are_stored(
    client: TestClient, store: Store, name: str, expected: list[tuple[Any, ...]]
) -> None:
    answer = post(client, fixture(name))
    assert answer.status_code == 200, answer.text
    assert answer.json()["new"] == len(expected)
    assert sorted(stored(store)) == sorted(expected)


def test_stored_alert_fields(client: TestClient, store: Store) -> None:
    post(client, fixture("am025_firing.json"))
    [a] = store.alerts.received()
    assert (a.alertname, a.service, a.severity) == ("SLOBurnRateHigh", "checkout", "page")
    assert a.annotations["summary"] == "checkout is burning its error budget"
    assert a.generator_url == "http://127.0.0.1:8599/slo/checkout"
    assert (a.first_received_at, a.last_received_at) == (RECEIVED, RECEIVED)


def test_unknown_extra_fields_are_accepted(client: TestClient, store: Store) -> None:
    body = fixture("am025_firing.json")
    body.update(notification_reason="first notification", routeLabels={"team": "shop"})
    body["alerts"][0]["futureField"] = {"nested": [1, 2]}
    assert post(client, body).status_code == 200
    assert len(stored(store)) == 1


def test_repeated_firing_is_idempotent_and_resolved_updates(
    client: TestClient, store: Store
) -> None:
    firing, resolved = fixture("am025_firing.json"), fixture("am025_resolved.json")
    answers = [post(client, b).json() for b in (firing, firing, resolved, resolved, firing)]
    assert [(a["new"], a["resolved"], a["repeated"]) for a in answers] == [
        (1, 0, 0),
        (0, 0, 1),
        (0, 1, 0),
        (0, 0, 1),
        (0, 0, 1),
    ]
    # One instance; the late firing retry does not reopen it.
    assert stored(store) == [
        (
            "ebb1fe80b92a0f50",
            "resolved",
            datetime(2026, 11, 27, 8, 37, 37, 368000, tzinfo=UTC),
            datetime(2026, 11, 27, 8, 37, 42, 252000, tzinfo=UTC),
        )
    ]
    # The duplicate deliveries (the 2nd and 4th) store no notification: 3 rows, not 5.
    assert notifications(store) == 3


def test_new_starts_at_is_a_new_instance(client: TestClient, store: Store) -> None:
    first, second = fixture("am025_firing.json"), fixture("am025_firing.json")
    second["alerts"][0]["startsAt"] = "2026-11-27T09:00:00Z"
    post(client, first)
    post(client, second)
    assert [(fp, starts.minute) for fp, _, starts, _ in stored(store)] == [
        ("ebb1fe80b92a0f50", 37),
        ("ebb1fe80b92a0f50", 0),
    ]


def test_truncated_alerts_recorded_as_data_gap(client: TestClient, store: Store) -> None:
    body = fixture("am025_firing.json")
    body["truncatedAlerts"] = 7
    assert post(client, body).json()["truncated_alerts"] == 7
    [gap] = store.alerts.data_gaps()
    assert (gap.truncated_alerts, gap.alert_count, gap.receiver, gap.received_at) == (
        7,
        1,
        "slo-webhook",
        RECEIVED,
    )


# -- rejected bodies: status, message, nothing stored -----------------------------------------


def _without(path: tuple[Any, ...]) -> dict[str, Any]:
    body = copy.deepcopy(fixture("am025_firing.json"))
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return body


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(fixture("am025_firing.json"))
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return body


BAD_BODIES = [
    pytest.param(b"{not json", "not valid JSON", id="malformed-json"),
    pytest.param(b"", "not valid JSON", id="empty-body"),
    pytest.param(b"[1, 2]", "<body>", id="array-instead-of-object"),
    pytest.param(_with(("version",), "3"), "version: Input should be '4'", id="wrong-version"),
    pytest.param(_without(("version",)), "version: Field required", id="missing-version"),
    pytest.param(
        _without(("alerts", 0, "startsAt")),
        "alerts[0].startsAt: Field required",
        id="missing-startsAt",
    ),
    pytest.param(
        _with(("alerts", 0, "startsAt"), "yesterday"), "alerts[0].startsAt", id="bad-timestamp"
    ),
    pytest.param(
        _with(("alerts", 0, "labels"), {"severity": 3}),
        "alerts[0].labels.severity",
        id="non-string-label",
    ),
    pytest.param(
        _with(("alerts",), {"a": 1}),
        "alerts: Input should be a valid array",
        id="alerts-not-a-list",
    ),
    pytest.param(
        _with(("status",), "pending"),
        "status: Input should be 'firing' or 'resolved'",
        id="wrong-status",
    ),
    pytest.param(
        _without(("alerts", 0, "fingerprint")),
        "alerts[0].fingerprint: Field required",
        id="missing-fingerprint",
    ),
    pytest.param(_with(("truncatedAlerts",), -1), "truncatedAlerts", id="negative-truncated"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_body_is_400_naming_the_problem(
    client: TestClient, store: Store, body: Any, message: str
) -> None:
    answer = post(client, body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert (stored(store), notifications(store)) == ([], 0)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": ""}, id="missing-token"),
        pytest.param({"Authorization": "Bearer wrong"}, id="wrong-token"),
        pytest.param({"Authorization": f"Basic {TOKEN}"}, id="wrong-scheme"),
        pytest.param({"Authorization": f"Bearer {TOKEN}x"}, id="token-with-suffix"),
    ],
)
def test_bad_token_is_401(client: TestClient, store: Store, headers: dict[str, str]) -> None:
    answer = post(client, fixture("am025_firing.json"), headers)
    assert answer.status_code == 401
    assert "bearer token" in answer.json()["error"]
    assert answer.headers["www-authenticate"] == "Bearer"
    assert (stored(store), notifications(store)) == ([], 0)


def test_lowercase_bearer_scheme_is_accepted(client: TestClient, store: Store) -> None:
    answer = post(client, fixture("am025_firing.json"), {"Authorization": f"bearer {TOKEN}"})
    assert answer.status_code == 200


def test_no_token_configured_is_503_saying_what_to_set(tmp_path: Path, store: Store) -> None:
    app = create_app(make_settings(tmp_path, token=None), store)
    with TestClient(app) as client:
        answer = post(client, fixture("am025_firing.json"))
    assert answer.status_code == 503
    assert "SLOCTL_RECEIVER_TOKEN" in answer.json()["error"]
    assert stored(store) == []


def test_oversize_body_is_413_by_content_length(tmp_path: Path, store: Store) -> None:
    body = fixture("am025_firing.json")
    body["commonAnnotations"]["padding"] = "x" * 2000
    app = create_app(make_settings(tmp_path, max_body=1024), store)
    with TestClient(app) as client:
        answer = post(client, body)
    assert answer.status_code == 413
    assert "max_body_bytes (1024 bytes)" in answer.json()["error"]
    assert (stored(store), notifications(store)) == ([], 0)


def test_oversize_streamed_body_without_length_is_413(tmp_path: Path, store: Store) -> None:
    data = json.dumps(fixture("am025_firing.json") | {"padding": "x" * 4000}).encode()

    def chunks() -> Iterator[bytes]:  # a generator body is sent chunked, without Content-Length
        for i in range(0, len(data), 500):
            yield data[i : i + 500]

    app = create_app(make_settings(tmp_path, max_body=1024), store)
    with TestClient(app) as client:
        answer = client.post(WEBHOOK_PATH, content=chunks(), headers=AUTH)
    assert answer.status_code == 413
    assert (stored(store), notifications(store)) == ([], 0)


def test_store_failure_is_503_so_alertmanager_retries(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sloctl.errors import StoreError

    def broken(*_args: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(Alerts, "record", broken)
    answer = post(client, fixture("am025_firing.json"))
    assert answer.status_code == 503
    assert "retry" in answer.json()["error"]


def test_healthz_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.text == ""  # no evaluation stored yet: nothing to expose
