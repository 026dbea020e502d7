"""The Incidents page on the known shop history: the week's incidents from its stored
scorecard (time to restore against the goal, attribution) on a timeline, with their evidence
(alerts, exemplar traces, the logs command); without a scorecard, the alert log's."""

from __future__ import annotations

from datetime import timedelta

from sloctl.demo.deployments import record_history, shop_history
from sloctl.store import Store
from tests.support.dashboard_app import (  # noqa: F401 (fixture app_store)
    app_store_fixture,
    chart_spec,
    open_page,
    texts,
    values,
)
from tests.support.dashboard_history import NOW, TRACE_URL, fill, fill_evaluations

PAYMENT = "payment@2026-11-19T10:30:00Z"


def test_the_weeks_incidents_with_time_to_restore_and_attribution(app_store: str) -> None:
    fill(app_store)
    page = open_page("incidents")
    assert [(m.label, m.value, m.delta) for m in page.metric] == [
        ("Incidents", "1", "0 open"),
        ("Time to restore (median) · goal < 15 min", "20 min", "goal missed"),
        ("Longest", "20 min", "payment"),
    ]
    rows = page.dataframe[0].value.to_dict("records")
    assert rows == [{
        "Incident": PAYMENT, "Service": "payment", "Start": "2026-11-19 10:30",
        "End": "2026-11-19 10:50", "Duration (min)": 20.0, "Severity": "critical",
        # payment's release of 10:20 was in effect when it started
        "Deployment": "payment/production@1.34.0 2026-11-19T10:20:00+00:00",
        "Attribution": "in_effect_strong"}]
    timeline = chart_spec(page, "incident_timeline")["data"]
    assert [t["name"] for t in timeline] == ["payment"]
    assert [str(x)[:16] for x in values(timeline[0]["x"]) if x is not None] == [
        "2026-11-19T10:30", "2026-11-19T10:50"]


def test_each_incident_shows_its_evidence(app_store: str) -> None:
    fill(app_store)
    page = open_page("incidents")
    assert [e.label for e in page.expander] == [
        f"{PAYMENT}: in_effect_strong to payment/production@1.34.0 2026-11-19T10:20:00+00:00"]
    assert texts(page.expander[0], "markdown") == [
        "**Alerts**\n- PaymentHighErrorRate (critical) 2026-11-19 10:30 UTC – 2026-11-19 "
        "10:50 UTC: payment: 1.2 % of requests fail",
        f"**Traces** (exemplars)\n- [4bf92f3577b34da6]({TRACE_URL}) payment POST /charge, "
        "2.50 s, 3 error span(s)",
        "**Logs** (not stored; Loki): `sloctl logs payment --errors --since 2026-11-19T10:25 "
        "--until 2026-11-19T10:55`",
    ]


def test_a_team_without_incidents(app_store: str) -> None:
    fill(app_store)
    page = open_page("incidents", team="platform")
    assert [(m.label, m.value) for m in page.metric][:2] == [
        ("Incidents", "0"), ("Time to restore (median) · goal < 15 min", "n/a")]
    assert "No incident in this period." in texts(page, "caption")


def test_without_a_scorecard_the_alert_log_shows_the_last_7_days(app_store: str) -> None:
    fill_evaluations(app_store)
    with Store(app_store) as store:
        record_history(store, shop_history(NOW), NOW)  # the demo's order incident, 20 h ago
    page = open_page("incidents")
    assert texts(page, "subheader") == ["From the alert log, last 7 days"]
    rows = page.dataframe[0].value.to_dict("records")
    start = NOW - timedelta(hours=20)
    assert rows == [{
        "Service": "order", "Start": start.strftime("%Y-%m-%d %H:%M"),
        "End": (start + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M"),
        "Duration (min)": 30.0, "Severity": "critical", "Alerts": "OrderHighErrorRate"}]
    evidence = texts(page.expander[0], "markdown")
    assert evidence[0] == (
        "**Alerts**\n- OrderHighErrorRate (critical) 2026-11-26 14:00 UTC – 2026-11-26 14:30 "
        "UTC: order: 25 % of requests fail")
    assert "No exemplar trace stored for this service (jaeger.enabled)." in texts(
        page.expander[0], "caption")
