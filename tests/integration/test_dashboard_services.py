"""The Services page on the known shop history: the table of every service (now and the week),
and one service's signals, SLOs, burn-down, and deployments, canary judgements and incidents
on one timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sloctl.demo.deployments import shop_history
from sloctl.store import StoreReader
from tests.support.dashboard_app import (  # noqa: F401 (fixture app_store)
    app_store_fixture,
    chart_spec,
    open_page,
    texts,
    values,
)
from tests.support.dashboard_history import NOW, fill


def test_the_table_holds_every_service_now_and_over_the_week(app_store: str) -> None:
    fill(app_store)
    page = open_page("services")
    frame = page.dataframe[0].value.set_index("Service")
    assert list(frame.index) == ["inventory", "notification", "order", "payment", "user"]
    assert frame["Team"].tolist() == ["shop", "platform", "shop", "shop", "platform"]
    assert frame["Status (period)"].tolist() == ["OK", "OK", "WARNING", "OK", "OK"]
    assert frame["Breaching now"].tolist() == [0, 0, 0, 1, 0]  # payment/availability
    assert frame["Alerts firing"].tolist() == [1, 0, 0, 2, 0]
    assert frame["Traffic (req/s)"].tolist() == [60.0, 15.0, 40.0, 20.0, 50.0]
    assert frame["Errors %"].tolist() == pytest.approx([0.1, 0.1, 0.1, 1.2, 0.1])
    assert frame["p95 (ms)"].tolist() == pytest.approx([450.0, 120.0, 140.0, 160.0, 120.0])
    # the week: order 22,000 of 4e6 bad, payment 9,000 of 2e6; inventory's p95 320 ms
    assert frame["Errors % (period)"].tolist() == pytest.approx([0.1, 0.1, 0.55, 0.45, 0.1])
    assert frame["p95 ms (period)"].tolist() == pytest.approx([320.0, 120.0, 140.0, 160.0,
                                                               120.0])
    assert frame["Alert rules (period)"].tolist() == ["outside", "inside", "outside", "inside",
                                                      "inside"]
    assert not page.get("plotly_chart")  # no service chosen: the table only


def test_a_team_keeps_its_services(app_store: str) -> None:
    fill(app_store)
    frame = open_page("services", team="platform").dataframe[0].value
    assert frame["Service"].tolist() == ["notification", "user"]


def test_a_service_shows_its_signals_and_slos(app_store: str) -> None:
    fill(app_store)
    page = open_page("services", service="payment")
    assert texts(page, "header") == ["payment"]
    assert [(m.label, m.value, m.delta, m.proto.delta_description) for m in page.metric] == [
        ("Traffic", "20.00 req/s", "", ""),
        (":red[:material/cancel:] Errors", "1.20 %", "above the rule", "alert above 0.50 %"),
        (":green[:material/check_circle:] p95", "160 ms", "inside the rule", "alert above 300 ms"),
        ("p99", "350 ms", "", ""),
        ("Saturation", "0.8", "", ""),
    ]
    slos = page.dataframe[1].value
    assert slos["SLO"].tolist() == ["availability", "latency"]
    assert slos["Budget left %"].tolist() == pytest.approx([-20.0, 80.0])


def test_the_burn_down_draws_every_slo_of_the_service(app_store: str) -> None:
    fill(app_store)
    page = open_page("services", service="inventory")
    spec = chart_spec(page, "burn_downs")
    with StoreReader(app_store) as reader:
        since = NOW - timedelta(days=30)
        expected = {slo: (reader.evaluations.slo_history(slo, since, NOW, 500)
                          ["budget_remaining"] * 100).tolist()
                    for slo in ("inventory/availability", "inventory/latency")}
    drawn = {t["name"]: values(t["y"]) for t in spec["data"]}
    assert list(drawn) == list(expected)
    for slo, budget in expected.items():
        assert drawn[slo] == pytest.approx(budget)
    assert drawn["inventory/latency"][-1] == pytest.approx(20.0)


def test_deployments_canary_judgements_and_incidents_share_one_timeline(app_store: str) -> None:
    fill(app_store)
    page = open_page("services", service="order")
    since = NOW - timedelta(days=30)
    shipped = [d for d in shop_history(NOW).deployments
               if d.service == "order" and since <= d.finished < NOW]
    rows = page.dataframe[-1].value
    events = rows["event"].tolist()
    assert events.count("deployment") == len(shipped)
    assert events.count("canary") == 2 and events.count("incident") == 1
    incident = rows[rows["event"] == "incident"].iloc[0]
    # the demo's order incident: 25 % errors from 20 h before now, for 30 minutes
    assert incident["time"] == (NOW - timedelta(hours=20)).strftime("%Y-%m-%d %H:%M")
    assert incident["result"] == "30 min, critical"
    assert incident["detail"] == "alerts: OrderHighErrorRate"
    failed = rows[rows["result"] == "❌ fail"].iloc[0]
    assert failed["detail"].startswith('order{version="')
    assert "; deployment " in failed["detail"]  # beside the deployment it judged
    lanes = {t["name"]: t for t in chart_spec(page, "event_timeline")["data"]}
    assert list(lanes) == ["deployment", "canary", "incident"]
    assert len(lanes["canary"]["x"]) == 2
    assert [str(x)[:16] for x in lanes["incident"]["x"] if x is not None] == [
        (NOW - timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M"),
        (NOW - timedelta(hours=19, minutes=30)).strftime("%Y-%m-%dT%H:%M")]
