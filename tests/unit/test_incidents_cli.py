"""`sloctl alerts` and `sloctl incidents` on a store filled with known notifications."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.core import alert_rules
from sloctl.core.alerts import AlertState
from sloctl.store import Store
from sloctl.store.incidents import Notification, ReceivedAlert
from tests.support.evaluations import alert as sloctl_alert
from tests.support.evaluations import evaluation

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=2)


def received(
    fp: str, name: str, service: str, severity: str, start: datetime, end: datetime | None
) -> ReceivedAlert:
    return ReceivedAlert(
        fingerprint=fp,
        status="firing" if end is None else "resolved",
        starts_at=start,
        ends_at=end,
        labels={"alertname": name, "service": service, "severity": severity},
        annotations={"summary": f"{name} on {service}"},
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    with Store(url) as store:
        log = store.alerts
        log.record(
            Notification(
                "sloctl",
                "resolved",
                '{}:{service="checkout"}',
                [
                    received(
                        "a", "HighErrorRate", "checkout", "critical", T0, T0 + timedelta(minutes=10)
                    ),
                    received(
                        "b",
                        "LatencyHigh",
                        "checkout",
                        "warning",
                        T0 + timedelta(minutes=12),
                        T0 + timedelta(minutes=20),
                    ),
                ],
            ),
            NOW,
        )
        log.record(
            Notification(
                "sloctl",
                "firing",
                '{}:{service="cart"}',
                [
                    received(
                        "c", "HighErrorRate", "cart", "page", NOW - timedelta(minutes=30), None
                    ),
                    received("d", "Chatty", "cart", "info", NOW - timedelta(minutes=20), None),
                ],
                truncated_alerts=3,
            ),
            NOW,
        )
        fired = replace(
            sloctl_alert(
                "burn_rate:page/checkout/availability",
                AlertState.FIRING,
                NOW - timedelta(minutes=5),
            ),
            rule="slo_burn_rate_page",
            labels={
                **alert_rules.slo_alert_labels(
                    alert_rules.BURN_RATE_PAGE, "checkout", "availability", {"team": "payments"}
                ),
                "long_window": "1h",
                "short_window": "5m",
            },
        )
        # The same condition raised by Prometheus' generated rule (same alertname and labels),
        # received through Alertmanager, and a sloctl-only page of another SLO.
        same = replace(
            received("e", "SLOBurnRatePage", "checkout", "page", NOW - timedelta(minutes=6), None),
            labels=alert_rules.identity_labels(fired),
            generator_url="http://127.0.0.1:9090/graph?g0.expr=x",
        )
        log.record(Notification("sloctl", "firing", '{}:{slo="availability"}', [same]), NOW)
        other = replace(fired, key="burn_rate:page/checkout/latency", slo_id="checkout/latency",
                        labels={**fired.labels, "slo": "latency", "sloth_slo": "latency",
                                "sloth_id": "checkout-latency"},
                        fired_at=NOW - timedelta(minutes=3))
        store.save_evaluation(evaluation(NOW - timedelta(minutes=1), [], alerts=[fired, other]))
    return {"SLOCTL_STORE_URL": url, "COLUMNS": "200"}


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def iso(at: datetime) -> str:
    return at.isoformat()


def test_incidents_json(env: dict[str, str]) -> None:
    code, output = run(env, "incidents", "--since", "1d", "--output", "json")
    assert code == 0, output
    doc = json.loads(output)
    got = [
        (i["service"], i["start"], i["end"], i["severity"], i["alerts"], i["open"])
        for i in doc["incidents"]
    ]
    assert got == [
        (
            "checkout",
            iso(T0),
            iso(T0 + timedelta(minutes=20)),
            "critical",
            ["HighErrorRate", "LatencyHigh"],
            False,
        ),
        ("cart", iso(NOW - timedelta(minutes=30)), None, "page", ["HighErrorRate"], True),
        ("checkout", iso(NOW - timedelta(minutes=6)), None, "page", ["SLOBurnRatePage"], True),
    ]
    assert doc["incidents"][0]["duration_seconds"] == 1200.0
    assert [(g["truncated_alerts"], g["alert_count"]) for g in doc["data_gaps"]] == [(3, 2)]


@pytest.mark.parametrize(
    ("args", "services"),
    [
        pytest.param(["--service", "cart"], ["cart"], id="service-filter"),
        pytest.param(
            ["--since", "1h"], ["cart", "checkout"], id="since-duration-excludes-older"
        ),
        pytest.param(
            ["--since", (T0 - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")],
            ["checkout", "cart", "checkout"],
            id="since-naive-iso-is-utc",
        ),
    ],
)
def test_incidents_filters(env: dict[str, str], args: list[str], services: list[str]) -> None:
    code, output = run(env, "incidents", *args, "-o", "json")
    assert code == 0, output
    assert [i["service"] for i in json.loads(output)["incidents"]] == services


def test_incidents_table_shows_open_and_data_gap(env: dict[str, str]) -> None:
    code, output = run(env, "incidents")
    assert code == 0, output
    assert "HighErrorRate, LatencyHigh" in output
    assert "open" in output and "20 min" in output
    assert "Alertmanager dropped 3 alert(s) in 1 notification(s)" in output


def test_alerts_json_one_row_per_condition_with_its_sources(env: dict[str, str]) -> None:
    # the evaluation is NOW - 1 min as of import: no staleness check (tests/unit/test_cli_alerts)
    code, output = run(env, "alerts", "-o", "json", "--max-age", "0")
    assert code == 0, output
    rows: list[dict[str, Any]] = json.loads(output)
    assert [(r["sources"], r["alert"], r["service"], r["since"]) for r in rows] == [
        (["sloctl"], "SLOBurnRatePage", "checkout", iso(NOW - timedelta(minutes=3))),
        (  # raised by both Prometheus and sloctl: one condition, one row
            ["sloctl", "alertmanager (prometheus)"],
            "SLOBurnRatePage",
            "checkout",
            iso(NOW - timedelta(minutes=6)),
        ),
        (["alertmanager"], "Chatty", "cart", iso(NOW - timedelta(minutes=20))),
        (["alertmanager"], "HighErrorRate", "cart", iso(NOW - timedelta(minutes=30))),
    ]
    assert rows[1]["labels"]["slo"] == "availability" and rows[0]["labels"]["slo"] == "latency"


def test_alerts_table(env: dict[str, str]) -> None:
    code, output = run(env, "alerts", "--max-age", "0")
    assert code == 0, output
    assert "HighErrorRate on cart" in output and "sloctl" in output


def test_bad_since_is_a_usage_error(env: dict[str, str]) -> None:
    code, output = run(env, "incidents", "--since", "last tuesday")
    assert code == 2
    assert "--since 'last tuesday': not a time sloctl reads" in output


def test_empty_store_says_so(tmp_path: Path) -> None:
    env = {"SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    code, output = run(env, "alerts")  # no store at all: say how to make one, create nothing
    assert code == 2 and "does not exist yet: run `sloctl eval`" in " ".join(output.split())
    assert not (tmp_path / "empty.db").exists()
    Store(env["SLOCTL_STORE_URL"]).close()
    assert run(env, "alerts") == (0, "No alert is firing.\n")
    code, output = run(env, "incidents")
    assert code == 0 and output.startswith("No incident (last 7d)")
