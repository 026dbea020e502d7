"""`sloctl silence` against Debian's real Alertmanager 0.25 (API v2) on loopback.

A service's silence suppresses every alert carrying its ``service`` label (default alerts and its
SLOs' alerts) and nothing else; an SLO's silence only that SLO's alerts (``slo`` +
``sloth_service``), whoever sent them; expiring a silence makes its alerts active again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from sloctl.cli.main import app
from sloctl.core import alert_rules
from sloctl.demo.alertmanager_server import AlertmanagerServer
from sloctl.demo.process import free_port
from sloctl.errors import EXIT_BACKEND, EXIT_USAGE
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration
TIMEOUT = 30.0


def _alert(defn: alert_rules.AlertDefinition, service: str, slo: str | None = None) -> dict[
        str, Any]:
    labels = (alert_rules.slo_alert_labels(defn, service, slo) if slo
              else alert_rules.service_alert_labels(defn, service))
    return {"labels": {"alertname": defn.alertname, **labels}}


ALERTS = {  # key -> alert, each with the labels Prometheus' rules and sloctl send
    "payment-errors": _alert(alert_rules.ERROR_RATIO, "payment"),
    "payment-page": _alert(alert_rules.BURN_RATE_PAGE, "payment", "availability"),
    "order-errors": _alert(alert_rules.ERROR_RATIO, "order"),
    "order-page": _alert(alert_rules.BURN_RATE_PAGE, "order", "availability"),
    "order-latency-page": _alert(alert_rules.BURN_RATE_PAGE, "order", "latency"),
}


@pytest.fixture
def am(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    dead_webhook = f"http://127.0.0.1:{free_port()}/hook"  # notifications are not the point
    with AlertmanagerServer(tmp_path / "am", webhook_url=dead_webhook, token="t") as server:
        server.post_alerts(list(ALERTS.values()))
        yield server


def run(am: AlertmanagerServer, *args: str) -> Result:
    env = {"SLOCTL_ALERTMANAGER_URL": am.url, "SLOCTL_CONFIG": "", "USER": "alice",
           "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def states(am: AlertmanagerServer) -> dict[str, tuple[str, list[str]]]:
    """key -> (status.state, silencedBy) of each alert of ``ALERTS``."""
    by_labels = {json.dumps(a["labels"], sort_keys=True): a for a in am.alerts()}
    found = {}
    for key, alert in ALERTS.items():
        held = by_labels.get(json.dumps(alert["labels"], sort_keys=True))
        if held is not None:
            found[key] = (held["status"]["state"], held["status"]["silencedBy"])
    return found


def wait_for(am: AlertmanagerServer, suppressed: set[str], what: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        now = states(am)
        if len(now) == len(ALERTS) and {k for k, (s, _) in now.items()
                                        if s == "suppressed"} == suppressed:
            return now
        return None

    return wait_until(probe, TIMEOUT, what)


def test_a_service_silence_suppresses_its_alerts_until_expired(am: AlertmanagerServer) -> None:
    wait_for(am, set(), "every alert active")
    created = run(am, "silence", "create", "--service", "payment", "--duration", "1h",
                  "-m", "bank maintenance", "-o", "json")
    assert created.exit_code == 0, created.output
    doc = json.loads(created.stdout)
    assert doc["matchers"] == {"service": "payment"} and doc["created_by"] == "alice"
    now = wait_for(am, {"payment-errors", "payment-page"}, "payment's alerts suppressed")
    assert now["payment-page"][1] == [doc["id"]]

    listed = json.loads(run(am, "silence", "list", "-o", "json").stdout)
    assert [(s["id"], s["state"], s["matchers"], s["created_by"], s["comment"])
            for s in listed] == [(doc["id"], "active", ['service="payment"'], "alice",
                                  "bank maintenance")]
    assert run(am, "silence", "list", "-o", "line").stdout.startswith(
        '1 active silence: service="payment" for ')

    expired = run(am, "silence", "expire", doc["id"])
    assert expired.exit_code == 0 and expired.stdout == f"expired {doc['id']}\n"
    wait_for(am, set(), "payment's alerts active again")
    assert json.loads(run(am, "silence", "list", "-o", "json").stdout) == []
    everything = json.loads(run(am, "silence", "list", "--all", "-o", "json").stdout)
    assert [(s["id"], s["state"]) for s in everything] == [(doc["id"], "expired")]


def test_an_slo_silence_suppresses_only_that_slos_alerts(am: AlertmanagerServer) -> None:
    wait_for(am, set(), "every alert active")
    created = run(am, "silence", "create", "--slo", "order/availability", "--until", "+30m",
                  "-m", "deploying 4.2", "-o", "json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["matchers"] == {"slo": "availability",
                                                      "sloth_service": "order"}
    wait_for(am, {"order-page"}, "order/availability's alerts suppressed")
    by_alert = run(am, "silence", "create", "--alert", "ServiceErrorRatioHigh", "-m", "noisy")
    assert by_alert.exit_code == 0, by_alert.output
    wait_for(am, {"order-page", "order-errors", "payment-errors"}, "every error-ratio alert")


def test_usage_errors_and_an_unknown_silence(am: AlertmanagerServer) -> None:
    neither = run(am, "silence", "create", "-m", "why")
    assert neither.exit_code == EXIT_USAGE
    assert "give --service SERVICE, --slo SERVICE/NAME or --alert ALERTNAME" in neither.output
    past = run(am, "silence", "create", "--service", "payment", "--until", "2h", "-m", "x")
    assert past.exit_code == EXIT_USAGE
    assert "is not in the future (a bare duration such as 2h means 2 hours ago); use " \
           "--duration 2h or --until +2h" in " ".join(past.output.split())
    bad_slo = run(am, "silence", "create", "--slo", "availability", "-m", "x")
    assert bad_slo.exit_code == EXIT_USAGE and "is not SERVICE/NAME" in bad_slo.output
    unknown = run(am, "silence", "expire", "00000000-0000-0000-0000-000000000000")
    assert unknown.exit_code == EXIT_USAGE
    assert "has no silence '00000000-0000-0000-0000-000000000000'" in unknown.output
    assert states(am) and all(s == "active" for s, _ in states(am).values())


def test_an_unreachable_alertmanager_exits_3() -> None:
    env = {"SLOCTL_ALERTMANAGER_URL": f"http://127.0.0.1:{free_port()}", "SLOCTL_CONFIG": ""}
    result = CliRunner().invoke(app, ["silence", "list"], env=env)
    assert result.exit_code == EXIT_BACKEND
    assert "connection refused" in result.output
