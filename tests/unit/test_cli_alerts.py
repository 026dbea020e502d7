"""`sloctl alerts` now, --at an instant and over --since/--until, from sloctl's stored states
and transitions and the alerts received from Alertmanager; formats and the data's age."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sloctl.cli.main import app
from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.errors import EXIT_STALE, EXIT_USAGE
from sloctl.store import Store
from sloctl.store.incidents import Notification, ReceivedAlert
from tests.support import evaluations as ev

NOW = datetime.now(UTC).replace(microsecond=0)
PAGE = ("burn_rate:page/checkout/availability", "slo_burn_rate_page")  # key, rule
ERRORS = ("default:error_ratio/cart", "error_ratio")


def minutes_ago(m: int) -> datetime:
    return NOW - timedelta(minutes=m)


def own(which: tuple[str, str], state: AlertState, at: datetime, **kw: object) -> AlertStatus:
    return replace(ev.alert(which[0], state, at, **kw), rule=which[1])  # type: ignore[arg-type]


def received(fp: str, name: str, service: str, start: datetime,
             end: datetime | None) -> ReceivedAlert:
    return ReceivedAlert(
        fingerprint=fp, status="firing" if end is None else "resolved", starts_at=start,
        ends_at=end, labels={"alertname": name, "service": service, "severity": "warning"},
        annotations={"summary": f"{name} on {service}"},
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """checkout's page fired 60 min ago and resolved 30 min ago; cart's error ratio fires since
    1 min (sloctl); Alertmanager: cart's HighLatency fires since 20 min, order's fired 3 h ago
    for 30 min."""
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    with Store(url) as store:
        for at, alerts in (
            (minutes_ago(60), [own(PAGE, AlertState.FIRING, minutes_ago(60))]),
            (minutes_ago(30), [own(PAGE, AlertState.RESOLVED, minutes_ago(30))]),
            (minutes_ago(1), [own(PAGE, AlertState.INACTIVE, minutes_ago(1)),
                              own(ERRORS, AlertState.FIRING, minutes_ago(1), service="cart",
                                  slo_id=None)]),
        ):
            store.evaluations.save(ev.evaluation(at, [], alerts=alerts))
        store.alerts.record(Notification("sloctl", "resolved", "{}:{}", [
            received("o", "HighErrors", "order", minutes_ago(180), minutes_ago(150))]),
            minutes_ago(150))
        store.alerts.record(Notification("sloctl", "firing", "{}:{}", [
            received("c", "HighLatency", "cart", minutes_ago(20), None)]), minutes_ago(20))
    return {"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": "", "COLUMNS": "200"}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def rows(env: dict[str, str], *args: str) -> list[tuple[str, str, str, str | None, list[str]]]:
    result = run(env, "alerts", *args, "-o", "json", "--max-age", "0")
    assert result.exit_code == 0, result.output
    return [(r["alert"], r["service"], r["since"], r["until"], r["sources"])
            for r in json.loads(result.stdout)]


def iso(at: datetime) -> str:
    return at.isoformat()


def test_alerts_firing_now_from_both_sources(env: dict[str, str]) -> None:
    assert rows(env) == [
        ("ServiceErrorRatioHigh", "cart", iso(minutes_ago(1)), None, ["sloctl"]),
        ("HighLatency", "cart", iso(minutes_ago(20)), None, ["alertmanager"]),
    ]
    line = run(env, "alerts", "-o", "line").stdout
    assert line.startswith("2 alerts firing (cart ServiceErrorRatioHigh, cart HighLatency), "
                           "data ")


def test_alerts_at_a_past_instant(env: dict[str, str]) -> None:
    assert rows(env, "--at", iso(minutes_ago(45))) == [
        ("SLOBurnRatePage", "checkout", iso(minutes_ago(60)), None, ["sloctl"]),
    ]
    assert rows(env, "--at", iso(minutes_ago(160))) == [
        ("HighErrors", "order", iso(minutes_ago(180)), iso(minutes_ago(150)), ["alertmanager"]),
    ]


def test_alerts_over_a_range_with_their_ends(env: dict[str, str]) -> None:
    assert rows(env, "--since", "4h") == [
        ("ServiceErrorRatioHigh", "cart", iso(minutes_ago(1)), None, ["sloctl"]),
        ("HighLatency", "cart", iso(minutes_ago(20)), None, ["alertmanager"]),
        ("SLOBurnRatePage", "checkout", iso(minutes_ago(60)), iso(minutes_ago(30)), ["sloctl"]),
        ("HighErrors", "order", iso(minutes_ago(180)), iso(minutes_ago(150)), ["alertmanager"]),
    ]
    assert [r[0] for r in rows(env, "--since", "4h", "--until", "50m")] == [
        "SLOBurnRatePage", "HighErrors"]
    assert [r[0] for r in rows(env, "--since", "4h", "--service", "order")] == ["HighErrors"]
    table = run(env, "alerts", "--since", "4h", "--until", "50m")
    assert "Alerts, 4h before " in table.stdout and "firing" in table.stdout
    listed = list(csv.DictReader(io.StringIO(run(env, "alerts", "--since", "4h", "-o",
                                                 "csv").stdout)))
    assert listed[2]["labels"].split(";")[0] == "alertname=SLOBurnRatePage"


def test_at_and_a_range_together_are_refused_and_old_data_is_stale(env: dict[str, str]) -> None:
    both = run(env, "alerts", "--at", "1h", "--since", "2h")
    assert both.exit_code == EXIT_USAGE
    assert "give --at (one instant) or --since/--until (a range), not both" in both.output
    assert run(env, "alerts", "--max-age", "10s").exit_code == EXIT_STALE
