"""Alertmanager incidents as DORA inputs, and `sloctl incidents link/unlink` (manual override)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.dora.incidents import dora_incidents, environment_of, incident_id
from sloctl.dora.model import Deployment, DoraIncident
from sloctl.errors import EXIT_USAGE
from sloctl.settings import Settings
from sloctl.store import Store
from sloctl.store.incidents import Notification, ReceivedAlert, StoredAlert

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SETTINGS = Settings.model_validate({"store_url": "sqlite://"})


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def alert(
    fp: str, start: datetime, end: datetime | None, severity: str = "critical", **labels: str
) -> StoredAlert:
    all_labels = {"alertname": "HighErrorRate", "service": "checkout", "severity": severity}
    all_labels.update(labels)
    return StoredAlert(
        fingerprint=fp,
        alertname=all_labels["alertname"],
        service=all_labels["service"],
        severity=severity,
        status="firing" if end is None else "resolved",
        starts_at=start,
        ends_at=end,
        labels=all_labels,
        annotations={},
        generator_url="",
        first_received_at=start,
        last_received_at=start,
    )


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        pytest.param({"env": "prod"}, "prod", id="env"),
        pytest.param({"environment": "staging"}, "staging", id="environment"),
        pytest.param({"deployment_environment": "production"}, "production", id="otel-name"),
        pytest.param({"env": "prod", "environment": "staging"}, "prod", id="env-first"),
        pytest.param({"env": ""}, "production", id="empty-is-default"),
        pytest.param({}, "production", id="default"),
    ],
)
def test_environment_of(labels: dict[str, str], expected: str) -> None:
    assert environment_of(labels, "production") == expected


def test_incident_id_is_service_and_utc_start() -> None:
    start = datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert incident_id("checkout", start) == "checkout@2026-11-27T09:00:00Z"
    assert incident_id("checkout", T0, "prod") == "checkout/prod@2026-11-27T09:00:00Z"


def test_qualifying_production_alerts_merge_into_incidents_with_labels() -> None:
    alerts = [
        # One episode: a + b overlap, c starts 4 min after b ended (gap <= 5 min).
        alert("a", T0, T0 + minutes(10), version="v2"),
        alert("b", T0 + minutes(5), T0 + minutes(20), "page", alertname="LatencyHigh", team="x"),
        alert("c", T0 + minutes(24), T0 + minutes(30)),
        # Not qualifying: warning severity, staging environment.
        alert("w", T0 - minutes(30), T0 + minutes(40), "warning"),
        alert("s", T0 - minutes(30), None, env="staging"),
        alert("n", T0 - minutes(30), None, service=""),  # no service label: not attributable
        # Another episode in the non-default production environment "prod", still open.
        alert("p", T0 + minutes(60), None, env="prod", service="cart"),
        # A later episode of checkout: the gap to c is 30 min.
        alert("d", T0 + minutes(60), T0 + minutes(75), commit_sha="abc1234"),
    ]
    got = dora_incidents(alerts, SETTINGS, now=T0 + minutes(90))
    assert got == [
        DoraIncident(
            id="checkout@2026-11-27T09:00:00Z",
            service="checkout",
            environment="production",
            start=T0,
            end=T0 + minutes(30),
            severity="critical",
            labels={
                "alertname": "HighErrorRate",
                "service": "checkout",
                "severity": "critical",
                "version": "v2",
                "team": "x",
            },
        ),
        DoraIncident(
            id="cart/prod@2026-11-27T10:00:00Z",
            service="cart",
            environment="prod",
            start=T0 + minutes(60),
            end=None,
            severity="critical",
            labels={
                "alertname": "HighErrorRate",
                "service": "cart",
                "severity": "critical",
                "env": "prod",
            },
        ),
        DoraIncident(
            id="checkout@2026-11-27T10:00:00Z",
            service="checkout",
            environment="production",
            start=T0 + minutes(60),
            end=T0 + minutes(75),
            severity="critical",
            labels={
                "alertname": "HighErrorRate",
                "service": "checkout",
                "severity": "critical",
                "commit_sha": "abc1234",
            },
        ),
    ]


def test_dora_severities_come_from_settings() -> None:
    settings = Settings.model_validate(
        {"store_url": "sqlite://", "dora": {"severities": ["warning"]}}
    )
    alerts = [alert("a", T0, T0 + minutes(10)), alert("w", T0, T0 + minutes(3), "warning")]
    got = dora_incidents(alerts, settings, now=T0 + minutes(90))
    assert [(i.severity, i.end) for i in got] == [("warning", T0 + minutes(3))]


# -- sloctl incidents link / unlink -----------------------------------------------------------

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
V1, V2, V3 = NOW - timedelta(days=3), NOW - timedelta(days=2), NOW - timedelta(days=1)
INCIDENT_START = V2 + minutes(30)
INCIDENT = incident_id("checkout", INCIDENT_START)


def deployment(version: str, sha: str, finished: datetime) -> Deployment:
    return Deployment(
        "checkout", "production", version, sha, finished, commit_time=finished - minutes(20)
    )


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """checkout deployed v1, v2, v3 a day apart; one critical incident 30 min after v2."""
    monkeypatch.chdir(tmp_path)  # no ./sloctl.yaml
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    with Store(url) as store:
        deployments = store.deployments
        for d in (
            deployment("v1", "aaaaaaa1", V1),
            deployment("v2", "bbbbbbb2", V2),
            deployment("v3", "ccccccc3", V3),
            deployment("v3", "ccccccc3", V3 + minutes(60)),  # a redeploy of v3
        ):
            deployments.record(d, "cli", NOW)
        labels = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
        store.alerts.record(
            Notification(
                "sloctl",
                "resolved",
                "{}:{}",
                [
                    ReceivedAlert(
                        "fp1", "resolved", INCIDENT_START, INCIDENT_START + minutes(20), labels
                    )
                ],
            ),
            NOW,
        )
    return {"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": "", "COLUMNS": "200"}


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def change_failure(env: dict[str, str]) -> dict[str, Any]:
    code, output = run(env, "dora", "--output", "json")
    assert code == 0, output
    (card,) = json.loads(output)
    cfr: dict[str, Any] = card["metrics"]["change_failure_rate"]
    return {
        "failed": cfr["numerator"],
        "of": cfr["denominator"],
        "by": cfr["details"]["failed_by"],
        "unattributed": card["data_quality"]["unattributed_incidents"],
    }


def test_incidents_json_shows_the_linkable_id(env: dict[str, str]) -> None:
    code, output = run(env, "incidents", "--since", "7d", "--output", "json")
    assert code == 0, output
    assert [i["id"] for i in json.loads(output)["incidents"]] == [INCIDENT]


def test_link_unlink_and_back_to_automatic(env: dict[str, str]) -> None:
    automatic = {"failed": 1, "of": 3, "by": {"in_effect_strong": 1}, "unattributed": 0}
    assert change_failure(env) == automatic

    code, output = run(env, "incidents", "link", INCIDENT, "v1", "--note", "config change")
    assert code == 0, output
    assert output.startswith(f"linked {INCIDENT} to checkout/production@v1 ")
    assert change_failure(env) == {"failed": 1, "of": 3, "by": {"manual": 1}, "unattributed": 0}

    code, output = run(env, "incidents", "unlink", INCIDENT)
    assert code == 0, output
    assert change_failure(env) == {"failed": 0, "of": 3, "by": {}, "unattributed": 1}

    code, output = run(env, "incidents", "unlink", INCIDENT, "--auto")
    assert code == 0, output
    assert "override removed" in output
    assert change_failure(env) == automatic
    code, output = run(env, "incidents", "unlink", INCIDENT, "--auto")
    assert "no override to remove" in output


def test_link_by_sha_prefix_and_by_version_at_finish(env: dict[str, str]) -> None:
    code, output = run(env, "incidents", "link", INCIDENT, "AAAAAAA")
    assert code == 0, output
    assert "checkout/production@v1 " in output
    v3 = V3.isoformat().replace("+00:00", "Z")
    code, output = run(env, "incidents", "link", INCIDENT, f"v3@{v3}")
    assert code == 0, output
    assert change_failure(env)["by"] == {"manual": 1}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(
            ["link", "checkout@2020-01-01T00:00:00Z", "v1"],
            "unknown incident 'checkout@2020-01-01T00:00:00Z'",
            id="link-unknown-incident",
        ),
        pytest.param(
            ["unlink", "nosuch@2020-01-01T00:00:00Z"],
            "see the ids of `sloctl incidents --output json`",
            id="unlink-unknown-incident",
        ),
        pytest.param(
            ["link", INCIDENT, "v9"],
            "no completed deployment of checkout/production matches 'v9'",
            id="unknown-version",
        ),
        pytest.param(
            ["link", INCIDENT, "v3"], "'v3' matches 2 deployments", id="ambiguous-version"
        ),
    ],
)
def test_link_errors_exit_2_and_change_nothing(
    env: dict[str, str], args: list[str], words: str
) -> None:
    code, output = run(env, "incidents", *args)
    assert code == EXIT_USAGE
    assert words in " ".join(output.split())
    assert change_failure(env)["by"] == {"in_effect_strong": 1}


def test_unknown_incident_lists_the_service_ids(env: dict[str, str]) -> None:
    code, output = run(env, "incidents", "link", "checkout@2020-01-01T00:00:00Z", "v1")
    assert code == EXIT_USAGE
    assert f"recent ids of checkout: {INCIDENT}" in " ".join(output.split())
