"""The Reports page on the known shop history: the stored weekly scorecards, one scope's email
preview with the email's digits and chart definitions, downloads, and the emails' state."""

from __future__ import annotations

import pytest

from sloctl.report.read import load_scorecard
from sloctl.report.render import render
from sloctl.store import StoreReader
from tests.support.dashboard_app import (  # noqa: F401 (fixture app_store)
    app_store_fixture,
    chart_spec,
    open_page,
    texts,
    values,
)
from tests.support.dashboard_history import PREVIOUS, WEEK, fill


def test_the_stored_periods_and_their_emails(app_store: str) -> None:
    fill(app_store)
    page = open_page("reports")
    assert page.dataframe[0].value.to_dict("records") == [
        {"Period": WEEK, "From": "2026-11-16 00:00 UTC", "To": "2026-11-23 00:00 UTC",
         "Measured": "2026-11-23 08:00 UTC", "Emails": 1, "Delivery": "sent"},
        {"Period": PREVIOUS, "From": "2026-11-09 00:00 UTC", "To": "2026-11-16 00:00 UTC",
         "Measured": "2026-11-16 08:00 UTC", "Emails": 0, "Delivery": ""},
    ]
    assert page.dataframe[-1].value.to_dict("records") == [
        {"Scope": "organisation", "To": "cto@shop.example", "State": "sent", "Attempts": 1,
         "Sent": "2026-11-23 08:00 UTC", "Last error": ""}]
    previous = open_page("reports", period=PREVIOUS)
    assert ("No email recorded for this period (report.organisation, report.teams)."
            in texts(previous, "caption"))


def test_the_preview_writes_the_emails_digits(app_store: str) -> None:
    fill(app_store)
    page = open_page("reports")
    assert texts(page, "markdown")[:2] == [
        "**Organisation scorecard 2026-W47** · 2026-W47 (Mon 16 Nov - Sun 22 Nov 2026)",
        "Outside 5 of 6 goals this period: Availability, SLOs within budget, Deployments per "
        "day per service, Lead time (median), Time to restore (median). Since last period: 1 "
        "first incident(s) in weeks; 1 failed deployment(s)."]
    kpis = page.dataframe[1].value
    assert kpis[["KPI", "Value", "Change"]].values.tolist() == [
        ["Availability", "99.765 %", "▼ -0.130 pp worse"],
        ["SLOs within budget", "9 of 10", "▼ -1 worse"],
        ["Deployments per day per service", "1.71/day", "▼ -0.03/day worse"],
        ["Lead time (median)", "1.8 h", "▼ +17 min worse"],
        ["Change failure rate", "1.67 %", "▼ +0.03 pp worse"],
        ["Time to restore (median)", "20 min", "no previous value"],
    ]
    with StoreReader(app_store) as reader:
        card = load_scorecard(reader, WEEK, "organisation")
    assert card is not None
    email = render(card, "http://127.0.0.1:8501", 0.25, with_images=False).text
    for value, change in kpis[["Value", "Change"]].values.tolist():
        assert value in email and change in email
    slos = page.dataframe[2].value
    assert slos.iloc[0].to_dict() == {
        "SLO": "order/availability", "Status": "WARNING", "Attainment": "99.450 %",
        "Objective": "99.50 %", "Budget left": "57.5 %", "Change": "▼ -0.450 pp worse",
        "Reason": "burned its budget 1.10x faster than sustainable over the period"}


def test_the_preview_draws_the_emails_charts(app_store: str) -> None:
    fill(app_store)
    page = open_page("reports")
    sparks = [c for c in page.get("plotly_chart") if "-spark_spark-" in c.proto.id]
    assert len(sparks) == 5  # every KPI with a trend: not "SLOs within budget"
    availability = chart_spec(page, "spark_spark-availability")
    assert values(availability["data"][0]["y"]) == pytest.approx(
        [100 * (1 - 19_500 / 18.5e6)] * 11 + [100 * (1 - 43_500 / 18.5e6)])
    assert availability["layout"]["shapes"][0]["y0"] == pytest.approx(99.95)  # the goal
    bars = chart_spec(page, "budget_bars")["data"][0]
    assert values(bars["y"])[:3] == ["payment/availability", "order/availability",
                                     "inventory/latency"]  # the least budget left first
    assert values(bars["x"])[:3] == pytest.approx([55.0, 57.5, 65.0])


def test_a_scope_from_the_url_and_the_downloads(app_store: str) -> None:
    fill(app_store)
    page = open_page("reports", scope="team/shop")
    assert page.selectbox(key="scope").value == "team/shop"
    assert page.query_params["scope"] == "team/shop"
    assert texts(page, "markdown")[0].startswith("**Team shop scorecard 2026-W47**")
    assert [b.proto.label for b in page.get("download_button")] == [
        "Download HTML", "Download CSV (SLOs)"]
    team = open_page("reports", team="platform")
    assert team.selectbox(key="scope").value == "team/platform"
