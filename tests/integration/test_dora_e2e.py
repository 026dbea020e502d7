"""DORA end to end: deployments and Alertmanager webhooks over HTTP (``sloctl serve``'s listener on
127.0.0.1), then ``sloctl dora --output json`` shows the hand-computed figures.

History of checkout in production (D = now, whole minutes; every commit 40 min before its deploy):
  v1.0.0 D-6d, v1.1.0 D-5d, v1.2.0 D-4d, v1.3.0 D-3d, v1.4.0 D-2d (GitHub body), v1.5.0 D-1d
Incidents (critical unless said):
  A  D-3d+20m .. +45m            -> v1.3.0 in effect 20 min before: in_effect_strong
  B  D-4d+2h .. +2h15m, label version=v1.1.0  -> exact: v1.1.0 (although v1.2.0 is in effect)
  C  D-10d .. +10m               -> no deployment before it: unattributed (time to restore only)
Not counted: a warning alert, a staging deployment and its alert, a failed deploy attempt, and
the same event posted twice (stored once: 200 the second time).

Hand-computed: change failure rate 2/6; failed deployment recovery times v1.1.0 26h15m = 94500 s
and v1.3.0 45 min = 2700 s -> median 48600 s; time to restore samples 600, 900, 1500 s -> median
900 s, p90 900 + 0.8 * 600 = 1380 s; rework 1/6 (v1.2.0, deployed before v1.1.0 recovered);
lead time 2400 s per head commit (a lower bound).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.runtime.http import DEPLOYMENTS_PATH, WEBHOOK_PATH, HttpServer
from sloctl.settings import Settings
from sloctl.store import Store

TOKEN = "e2e-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
D = datetime.now(UTC).replace(second=0, microsecond=0)
DAY, HOUR, MIN = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
NEVER = "0001-01-01T00:00:00Z"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def native(version: str, sha: str, finished: datetime, **extra: str) -> dict[str, Any]:
    return {
        "service": "checkout",
        "environment": "production",
        "version": version,
        "commit_sha": sha,
        "commit_time": iso(finished - 40 * MIN),
        "finished_at": iso(finished),
        "status": "success",
        **extra,
    }


def github(version: str, sha: str, finished: datetime) -> dict[str, Any]:
    return {
        "action": "created",
        "deployment_status": {
            "state": "success",
            "environment": "production",
            "created_at": iso(finished),
        },
        "deployment": {
            "sha": sha,
            "ref": version,
            "environment": "production",
            "payload": {"commit_time": iso(finished - 40 * MIN)},
            "created_at": iso(finished - 5 * MIN),
        },
        "repository": {"name": "checkout", "full_name": "shop/checkout"},
    }


def webhook(
    fingerprint: str,
    start: datetime,
    end: datetime | None,
    severity: str = "critical",
    **labels: str,
) -> dict[str, Any]:
    """An Alertmanager webhook body (payload version 4) with one alert."""
    status = "firing" if end is None else "resolved"
    all_labels = {
        "alertname": "HighErrorRate",
        "service": "checkout",
        "severity": severity,
        **labels,
    }
    return {
        "receiver": "sloctl",
        "status": status,
        "alerts": [
            {
                "status": status,
                "labels": all_labels,
                "annotations": {"summary": "checkout errors"},
                "startsAt": iso(start),
                "endsAt": NEVER if end is None else iso(end),
                "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": fingerprint,
            }
        ],
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": all_labels,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
    }


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.chdir(tmp_path)  # no ./sloctl.yaml
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    yield {"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": ""}


def feed(url: str) -> None:
    """Send the history above to sloctl's HTTP listener; checks every answer."""
    settings = Settings.model_validate({"store_url": url, "receiver": {"token": TOKEN, "port": 0}})
    with Store(url) as store, HttpServer(settings, store) as server, httpx.Client() as http:

        def post(path: str, body: dict[str, Any], status: int) -> None:
            answer = http.post(f"{server.url}{path}", json=body, headers=AUTH)
            assert answer.status_code == status, answer.text

        post(DEPLOYMENTS_PATH, native("v1.0.0", "1111111", D - 6 * DAY), 201)
        post(DEPLOYMENTS_PATH, native("v1.0.0", "1111111", D - 6 * DAY), 200)  # duplicate
        post(DEPLOYMENTS_PATH, native("v1.1.0", "2222222", D - 5 * DAY), 201)
        post(DEPLOYMENTS_PATH, native("v1.2.0", "3333333", D - 4 * DAY), 201)
        failed = native("v1.3.0-rc", "4444440", D - 3 * DAY - HOUR, status="failure")
        post(DEPLOYMENTS_PATH, failed, 201)
        post(DEPLOYMENTS_PATH, native("v1.3.0", "4444444", D - 3 * DAY), 201)
        post(DEPLOYMENTS_PATH, github("v1.4.0", "5555555", D - 2 * DAY), 201)
        post(DEPLOYMENTS_PATH, native("v1.5.0", "6666666", D - DAY), 201)
        staging = native("v1.6.0", "7777777", D - 12 * HOUR, environment="staging")
        post(DEPLOYMENTS_PATH, staging, 201)

        a_start, b_start, c_start = D - 3 * DAY + 20 * MIN, D - 4 * DAY + 2 * HOUR, D - 10 * DAY
        for body in (
            webhook("a", a_start, None),
            webhook("a", a_start, a_start + 25 * MIN),
            webhook("b", b_start, None, version="v1.1.0"),
            webhook("b", b_start, b_start + 15 * MIN, version="v1.1.0"),
            webhook("c", c_start, c_start + 10 * MIN),
            webhook("w", D - DAY + 10 * MIN, D - DAY + 50 * MIN, "warning"),
            webhook("s", D - 11 * HOUR, D - 10 * HOUR, env="staging"),
        ):
            post(WEBHOOK_PATH, body, 200)


def test_dora_sees_deployments_and_incidents_sent_over_http(env: dict[str, str]) -> None:
    feed(env["SLOCTL_STORE_URL"])
    result = CliRunner().invoke(app, ["dora", "--output", "json"], env=env)
    assert result.exit_code == 0, result.output
    (card,) = json.loads(result.output)
    assert card["scope"] == "checkout/production"
    m = card["metrics"]
    cfr = m["change_failure_rate"]
    assert (cfr["numerator"], cfr["denominator"]) == (2, 6)
    assert cfr["value"] == pytest.approx(2 / 6)
    assert cfr["details"]["failed_by"] == {"exact": 1, "in_effect_strong": 1}
    fdrt = m["failed_deployment_recovery_time"]
    assert (fdrt["n"], fdrt["value"]) == (2, 48600.0)
    assert fdrt["details"]["median_detection_lag"] == (20 * MIN + 26 * HOUR).total_seconds() / 2
    ttr = m["time_to_restore"]
    assert (ttr["n"], ttr["value"], ttr["p90"]) == (3, 900.0, pytest.approx(1380.0))
    rework = m["rework_rate"]
    assert (rework["numerator"], rework["denominator"]) == (1, 6)
    lead = m["lead_time"]
    assert (lead["n"], lead["value"], lead["lower_bound"]) == (6, 2400.0, True)
    assert m["deployment_frequency"]["n"] == 6
    # The event posted twice is one row (idempotent key), not a duplicate deployment event.
    assert (card["failed_attempts"], card["duplicates"]) == (1, 0)
    assert card["data_quality"]["unattributed_incidents"] == 1
    assert card["open_failures"] == []
