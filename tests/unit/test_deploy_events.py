"""Deployment events: native and GitHub ``deployment_status`` bodies, and errors naming fields."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from sloctl.dora.deploy_events import (
    DeployEventError,
    DeployEventNotFinal,
    parse_deployment_event,
)
from sloctl.dora.model import Commit, Deployment, DeploymentKey, DeployStatus

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
NATIVE: dict[str, Any] = {
    "service": "checkout",
    "environment": "production",
    "version": "v1.4.2",
    "commit_sha": "3F2A9C1D",
    "commit_time": "2026-11-27T08:00:00Z",
    "started_at": "2026-11-27T09:50:00+01:00",
    "finished_at": "2026-11-27T09:00:00Z",
    "status": "Success",
    "commits": [{"sha": "1234abc", "time": "2026-11-27T07:30:00Z"}],
}
# The fields GitHub's deployment_status webhook carries (docs: webhook-events-and-payloads).
GITHUB: dict[str, Any] = {
    "action": "created",
    "deployment_status": {
        "id": 1,
        "state": "success",
        "environment": "production",
        "created_at": "2026-11-27T09:05:00Z",
        "updated_at": "2026-11-27T09:05:00Z",
        "description": "",
    },
    "deployment": {
        "id": 42,
        "sha": "3f2a9c1d0000000000000000000000000000abcd",
        "ref": "v1.4.2",
        "task": "deploy",
        "environment": "production",
        "payload": {},
        "created_at": "2026-11-27T09:00:00Z",
        "updated_at": "2026-11-27T09:05:00Z",
    },
    "repository": {"id": 7, "name": "checkout", "full_name": "shop/checkout"},
    "sender": {"login": "ci-bot"},
}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=UTC)


def test_native_event() -> None:
    event = parse_deployment_event(NATIVE, NOW)
    assert event == Deployment(
        service="checkout",
        environment="production",
        version="v1.4.2",
        sha="3f2a9c1d",
        finished=at(9),
        status=DeployStatus.SUCCESS,
        commit_time=at(8),
        started=at(8, 50),  # 09:50+01:00
        commits=(Commit("1234abc", at(7, 30)),),
    )
    assert event.key == DeploymentKey("checkout", "production", "v1.4.2", at(9))


def test_github_deployment_status() -> None:
    event = parse_deployment_event(GITHUB, NOW)
    assert (event.service, event.environment, event.version) == ("checkout", "production", "v1.4.2")
    assert event.sha == "3f2a9c1d0000000000000000000000000000abcd"
    assert (event.started, event.finished, event.status) == (at(9), at(9, 5), DeployStatus.SUCCESS)
    assert event.commit_time is None  # GitHub does not send it: lead time unknown


def test_github_payload_overrides_service_version_and_commit_time() -> None:
    body = copy.deepcopy(GITHUB)
    body["deployment"]["payload"] = {
        "service": "cart",
        "version": "2.0",
        "commit_time": "2026-11-27T08:30:00Z",
    }
    body["deployment_status"]["state"] = "error"
    event = parse_deployment_event(body, NOW)
    assert (event.service, event.version, event.commit_time) == ("cart", "2.0", at(8, 30))
    assert event.status == DeployStatus.FAILURE


def test_github_pending_state_is_not_final() -> None:
    body = copy.deepcopy(GITHUB)
    body["deployment_status"]["state"] = "in_progress"
    with pytest.raises(DeployEventNotFinal) as info:
        parse_deployment_event(body, NOW)
    assert info.value.field == "deployment_status.state"


def _without(field: str) -> dict[str, Any]:
    return {k: v for k, v in NATIVE.items() if k != field}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        pytest.param(_without("service"), "service", "required field 'service'", id="no-service"),
        pytest.param(_without("finished_at"), "finished_at", "is missing", id="no-finished"),
        pytest.param({**NATIVE, "version": " "}, "version", "must not be empty", id="blank"),
        pytest.param({**NATIVE, "status": "done"}, "status", "unknown status 'done'", id="status"),
        pytest.param({**NATIVE, "commit_sha": "xyz"}, "commit_sha", "hex digits", id="bad-sha"),
        pytest.param(
            {**NATIVE, "finished_at": "yesterday"}, "finished_at", "is not a timestamp",
            id="unparsable-time",
        ),
        pytest.param(
            {**NATIVE, "commit_time": "2026-11-27T08:00:00"}, "commit_time", "no time zone",
            id="naive-time",
        ),
        pytest.param(
            {**NATIVE, "finished_at": "2026-11-27T10:06:00Z"}, "finished_at", "in the future",
            id="future-time",
        ),
        pytest.param(
            {**NATIVE, "commits": [{"sha": "1234abc", "time": "soon"}]}, "commits[0].time",
            "is not a timestamp", id="commit-time",
        ),
        pytest.param({**NATIVE, "colour": "red"}, "colour", "unknown field", id="unknown-field"),
        pytest.param(
            {**NATIVE, "started_at": "2026-11-27T09:30:00Z"}, "started_at", "after finished_at",
            id="started-after-finished",
        ),
        pytest.param(
            {**GITHUB, "deployment_status": {**GITHUB["deployment_status"], "state": "weird"}},
            "deployment_status.state", "unknown state 'weird'", id="github-state",
        ),
        pytest.param(
            {**GITHUB, "repository": {}}, "repository.name", "required field", id="github-repo",
        ),
    ],
)  # fmt: skip
def test_bad_events_name_the_field(body: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(DeployEventError) as info:
        parse_deployment_event(body, NOW)
    assert info.value.field == field
    assert words in str(info.value)
    assert str(info.value).startswith(f"invalid deployment event: {field}: ")


def test_every_bad_field_is_listed() -> None:
    body = {**_without("service"), "status": "done"}
    with pytest.raises(DeployEventError) as info:
        parse_deployment_event(body, NOW)
    assert [field for field, _ in info.value.problems] == ["service", "status"]


def test_body_must_be_an_object() -> None:
    with pytest.raises(DeployEventError) as info:
        parse_deployment_event(["not", "an", "object"], NOW)
    assert info.value.field == "<body>"
