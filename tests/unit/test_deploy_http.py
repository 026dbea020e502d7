"""POST /api/v1/deployments (FastAPI TestClient): native and GitHub bodies, idempotency, errors."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sloctl.dora.model import Commit, Deployment, DeployStatus
from sloctl.runtime.http import DEPLOYMENTS_PATH, create_app
from sloctl.settings import Settings
from sloctl.store import Store

TOKEN = "deploy-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NATIVE: dict[str, Any] = {
    "service": "checkout",
    "environment": "production",
    "version": "v1.4.2",
    "commit_sha": "3f2a9c1d",
    "commit_time": "2026-11-27T08:00:00Z",
    "started_at": "2026-11-27T08:50:00Z",
    "finished_at": "2026-11-27T09:00:00Z",
    "status": "success",
    "commits": [{"sha": "1234abc", "time": "2026-11-27T07:30:00Z"}],
}
GITHUB: dict[str, Any] = {
    "action": "created",
    "deployment_status": {
        "state": "success",
        "environment": "production",
        "created_at": "2026-11-27T09:05:00Z",
    },
    "deployment": {
        "sha": "3f2a9c1d0000000000000000000000000000abcd",
        "ref": "v1.4.3",
        "environment": "production",
        "payload": {},
        "created_at": "2026-11-27T09:00:00Z",
    },
    "repository": {"name": "cart", "full_name": "shop/cart"},
}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=UTC)


def with_(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with the dotted ``path`` set to ``value`` (``...`` deletes it)."""
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = out
    for name in parents:
        node = node[name]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'sloctl.db'}") as s:
        yield s


def make_client(tmp_path: Path, store: Store, max_body: int = 1_048_576) -> TestClient:
    settings = Settings.model_validate(
        {
            "store_url": f"sqlite:///{tmp_path / 'sloctl.db'}",
            "receiver": {"token": TOKEN, "max_body_bytes": max_body},
        }
    )
    return TestClient(create_app(settings, store, clock=lambda: NOW))


@pytest.fixture
def client(tmp_path: Path, store: Store) -> Iterator[TestClient]:
    with make_client(tmp_path, store) as c:
        yield c


def post(client: TestClient, body: Any, headers: dict[str, str] | None = None) -> Any:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        DEPLOYMENTS_PATH,
        content=data,
        headers={"Content-Type": "application/json", **AUTH, **(headers or {})},
    )


def stored(store: Store) -> list[Deployment]:
    return store.deployments.history()


def test_native_event_is_stored_and_answered_201(client: TestClient, store: Store) -> None:
    response = post(client, NATIVE)
    assert response.status_code == 201, response.text
    assert response.json() == {
        "status": "created",
        "deployment": {
            "service": "checkout",
            "environment": "production",
            "version": "v1.4.2",
            "commit_sha": "3f2a9c1d",
            "commit_time": "2026-11-27T08:00:00+00:00",
            "started_at": "2026-11-27T08:50:00+00:00",
            "finished_at": "2026-11-27T09:00:00+00:00",
            "status": "success",
            "commits": [{"sha": "1234abc", "time": "2026-11-27T07:30:00+00:00"}],
            "ref": "",
        },
    }
    assert stored(store) == [
        Deployment(
            service="checkout",
            environment="production",
            version="v1.4.2",
            sha="3f2a9c1d",
            finished=at(9),
            status=DeployStatus.SUCCESS,
            commit_time=at(8),
            started=at(8, 50),
            commits=(Commit("1234abc", at(7, 30)),),
        )
    ]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-GitHub-Event": "deployment_status"}, id="with-github-header"),
        pytest.param({}, id="detected-by-body-shape"),
    ],
)
def test_github_deployment_status_is_stored(
    client: TestClient, store: Store, headers: dict[str, str]
) -> None:
    response = post(client, GITHUB, headers)
    assert response.status_code == 201, response.text
    assert response.json()["deployment"]["version"] == "v1.4.3"
    (d,) = stored(store)
    assert (d.service, d.environment, d.version, d.sha[:8]) == (
        "cart",
        "production",
        "v1.4.3",
        "3f2a9c1d",
    )
    assert (d.started, d.finished, d.status) == (at(9), at(9, 5), DeployStatus.SUCCESS)


def test_same_key_again_is_200_already_recorded_and_one_row(
    client: TestClient, store: Store
) -> None:
    assert post(client, NATIVE).status_code == 201
    again = post(client, with_(NATIVE, "status", "rollback"))
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "already recorded"
    assert again.json()["deployment"]["status"] == "rollback"
    assert [(d.version, d.status) for d in stored(store)] == [("v1.4.2", DeployStatus.ROLLBACK)]
    # A different finish time is another deployment.
    other = post(client, with_(NATIVE, "finished_at", "2026-11-27T09:30:00Z"))
    assert other.status_code == 201
    assert [d.finished for d in stored(store)] == [at(9), at(9, 30)]


@pytest.mark.parametrize(
    "state", [pytest.param(s, id=s) for s in ("pending", "queued", "in_progress")]
)
def test_github_state_not_final_is_202_and_nothing_stored(
    client: TestClient, store: Store, state: str
) -> None:
    response = post(client, with_(GITHUB, "deployment_status.state", state))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "ignored"
    assert f"'{state}' is not final" in response.json()["reason"]
    assert stored(store) == []


def test_other_github_event_is_202_ignored(client: TestClient, store: Store) -> None:
    response = post(client, {"zen": "Keep it simple."}, {"X-GitHub-Event": "ping"})
    assert response.status_code == 202
    assert "'ping' is not recorded" in response.json()["reason"]
    assert stored(store) == []


@pytest.mark.parametrize(
    ("body", "headers", "field", "words"),
    [
        pytest.param(
            with_(NATIVE, "service", ...), {}, "service", "required", id="missing-service"
        ),
        pytest.param(
            with_(NATIVE, "finished_at", ...), {}, "finished_at", "required", id="missing-finish"
        ),
        pytest.param(
            with_(NATIVE, "commit_time", "yesterday"),
            {},
            "commit_time",
            "is not a timestamp",
            id="unparsable-commit-time",
        ),
        pytest.param(
            with_(NATIVE, "finished_at", "2026-11-27T09:00:00"),
            {},
            "finished_at",
            "has no time zone",
            id="naive-finish",
        ),
        pytest.param(
            with_(NATIVE, "finished_at", "2026-11-27T11:00:00Z"),
            {},
            "finished_at",
            "is in the future",
            id="future-finish",
        ),
        pytest.param(
            with_(NATIVE, "status", "exploded"),
            {},
            "status",
            "unknown status 'exploded'",
            id="unknown-status",
        ),
        pytest.param(
            with_(GITHUB, "deployment_status.state", "exploded"),
            {},
            "deployment_status.state",
            "unknown state 'exploded'",
            id="github-unknown-state",
        ),
        pytest.param(
            with_(GITHUB, "deployment_status.created_at", "2027-01-01T00:00:00Z"),
            {},
            "deployment_status.created_at",
            "is in the future",
            id="github-future-time",
        ),
        pytest.param(
            NATIVE,
            {"X-GitHub-Event": "deployment_status"},
            "deployment_status",
            "no deployment_status object",
            id="github-header-native-body",
        ),
        pytest.param(b"{not json", {}, "<body>", "is not valid JSON", id="not-json"),
        pytest.param([NATIVE], {}, "<body>", "must be a JSON object", id="json-array"),
    ],
)
def test_bad_event_is_400_naming_the_field_and_nothing_stored(
    client: TestClient,
    store: Store,
    body: Any,
    headers: dict[str, str],
    field: str,
    words: str,
) -> None:
    response = post(client, body, headers)
    assert response.status_code == 400, response.text
    doc = response.json()
    assert doc["field"] == field
    assert words in doc["error"] and field in doc["error"]
    assert doc["problems"][0]["field"] == field
    assert stored(store) == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": "Bearer wrong"}, id="wrong-token"),
        pytest.param({"Authorization": ""}, id="no-token"),
        pytest.param({"Authorization": f"Basic {TOKEN}"}, id="wrong-scheme"),
    ],
)
def test_bad_token_is_401_and_nothing_stored(
    client: TestClient, store: Store, headers: dict[str, str]
) -> None:
    response = post(client, NATIVE, headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "bearer token" in response.json()["error"]
    assert stored(store) == []


def test_oversize_body_is_413_and_nothing_stored(tmp_path: Path, store: Store) -> None:
    big = with_(NATIVE, "ref", "x" * 200)
    big["commits"] = [{"sha": f"{i:07x}", "time": "2026-11-27T07:30:00Z"} for i in range(40)]
    assert len(json.dumps(big)) > 1024
    with make_client(tmp_path, store, max_body=1024) as small:
        response = post(small, big)
    assert response.status_code == 413
    assert "max_body_bytes (1024 bytes)" in response.json()["error"]
    assert stored(store) == []


def test_no_token_configured_is_503_and_nothing_stored(tmp_path: Path, store: Store) -> None:
    settings = Settings.model_validate({"store_url": f"sqlite:///{tmp_path / 'sloctl.db'}"})
    with TestClient(create_app(settings, store, clock=lambda: NOW)) as c:
        response = post(c, NATIVE)
    assert response.status_code == 503
    assert "SLOCTL_RECEIVER_TOKEN" in response.json()["error"]
    assert stored(store) == []
