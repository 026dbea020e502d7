"""The Overview on the known shop history: the stored weekly scorecard's KPI tiles (goal and
traffic light, change, 12-week sparkline), headline, what changed, what needs attention and
the teams, for the organisation, a team and a service."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloctl.dashboard.report_view import CHANGE_ICONS
from tests.support.dashboard_app import app_store_fixture, open_page, texts  # noqa: F401
from tests.support.dashboard_history import fill

DROP = CHANGE_ICONS["budget_drop"]
MET, MISSED = ":green[:material/check_circle:]", ":red[:material/cancel:]"  # the traffic light
AVAILABILITY_BEFORE = 1 - 19_500 / 18.5e6  # 0.1 % of every service, payment 0.15 %
AVAILABILITY = 1 - 43_500 / 18.5e6  # order 22,000 and payment 9,000 bad in 2026-W47


def test_the_organisations_tiles_hold_the_weeks_figures(app_store: str) -> None:
    fill(app_store)
    page = open_page()
    assert [(m.label, m.value, m.delta) for m in page.metric] == [
        (f"{MISSED} Availability", "99.765 %", "▼ -0.130 pp worse"),
        (f"{MISSED} SLOs within budget", "9 of 10", "▼ -1 worse"),  # order/availability
        # 60 deployments in 7 days over 5 services; 61 the week before (payment's hotfix)
        (f"{MISSED} Deployments per day per service", "1.71/day", "▼ -0.03/day worse"),
        (f"{MISSED} Lead time (median)", "1.8 h", "▼ +17 min worse"),
        (f"{MET} Change failure rate", "1.67 %", "▼ +0.03 pp worse"),  # 1/60, 1/61
        (f"{MISSED} Time to restore (median)", "20 min", "no previous value"),
        (f"{MISSED} Services inside the alert rules", "3/5", "2 outside"),
    ]
    assert [m.proto.delta_description for m in page.metric] == [
        "goal 99.95 %", "goal all 10", "goal >= 3 deployments/day/service", "goal < 1 h",
        "goal < 3 %", "goal < 15 min", "goal errors < 0.5 %, p95 < 300 ms"]
    assert page.metric[0].help == (
        "Goal 99.95 %: missed. Previous period: 99.895 %. Events-weighted over 5 availability "
        "SLO(s).")
    assert page.metric[6].help == (
        "Goal: every service inside the alert rules (errors < 0.5 %, p95 < 300 ms): missed. "
        "Outside: inventory p95 320 ms, order errors 0.55 %.")


def test_the_tiles_carry_the_12_week_trend(app_store: str) -> None:
    fill(app_store)
    page = open_page()
    availability = list(page.metric[0].proto.chart_data)
    assert availability == pytest.approx([AVAILABILITY_BEFORE * 100] * 11 + [AVAILABILITY * 100])
    # the demo's 30 days of deployments reach 4 of the 12 weeks; no data is left out, not 0
    change_failure = list(page.metric[4].proto.chart_data)
    assert change_failure == pytest.approx([0.0, 0.0, 100 / 61, 100 / 60])
    assert not page.metric[1].proto.chart_data  # SLOs met has no trend


def test_headline_what_changed_and_attention(app_store: str) -> None:
    fill(app_store)
    page = open_page()
    assert texts(page, "error") == [
        "Outside 5 of 6 goals this period: Availability, SLOs within budget, Deployments per "
        "day per service, Lead time (median), Time to restore (median). Since last period: 1 "
        "first incident(s) in weeks; 1 failed deployment(s)."]
    assert texts(page, "markdown") == [
        f"- {DROP} order/availability: budget left 80.0 % -> 57.5 % (-22.5 pp)\n"
        f"- {DROP} inventory/latency: budget left 80.0 % -> 65.0 % (-15.0 pp)\n"
        f"- {DROP} payment/availability: budget left 70.0 % -> 55.0 % (-15.0 pp)\n"
        "- :red[:material/emergency:] payment: first incident since 2026-08-31 (as far back as "
        "the alert log goes)\n"
        f"- {MISSED} payment 1.34.0 failed (in_effect_strong); recovered after 30 min"]
    attention = page.dataframe[0].value
    assert attention.to_dict("records") == [{
        "SLO": "order/availability", "Status": "WARNING",
        "Attainment %": pytest.approx(99.45), "Objective %": pytest.approx(99.5),
        "Budget left %": pytest.approx(57.5),
        "Reason": "burned its budget 1.10x faster than sustainable over the period"}]
    captions = texts(page, "caption")
    assert "1 incident(s), 0 open; longest payment, 20 min (Incidents page)." in captions
    assert "failed deployment payment 1.34.0: in_effect_strong" in captions


def test_the_teams_table(app_store: str) -> None:
    fill(app_store)
    teams = open_page().dataframe[1].value.set_index("Team")
    assert teams.loc["shop", "SLOs met"] == 5 and teams.loc["shop", "SLOs"] == 6
    assert teams.loc["shop", "Worst SLO"] == "order/availability"
    assert teams.loc["shop", "Worst status"] == "WARNING"
    # shop: 12e6 events x 2 SLOs; bad 37,000 (availability) + 300,000 (latency)
    assert teams.loc["shop", "Combined SLI %"] == pytest.approx(100 * (1 - 337_000 / 24e6))
    assert teams.loc["platform", "SLOs met"] == 4
    assert teams.loc["platform", "Combined SLI %"] == pytest.approx(100 * (1 - 71_500 / 13e6))


@pytest.mark.parametrize(("params", "title", "availability"), [
    ({"team": "platform"}, "Team platform", ("99.900 %", "= unchanged")),  # 6,500 of 6.5e6
    ({"service": "payment"}, "Service payment", ("99.550 %", "▼ -0.300 pp worse")),
    ({"team": "shop", "service": "order"}, "Service order", ("99.450 %", "▼ -0.450 pp worse")),
])
def test_a_team_or_a_service_shows_its_own_scorecard(
    app_store: str, params: dict[str, str], title: str, availability: tuple[str, str]
) -> None:
    fill(app_store)
    page = open_page("overview", **params)
    assert texts(page, "caption")[1].startswith(f"{title} · 2026-W47 ")
    assert (page.metric[0].value, page.metric[0].delta) == availability
    assert not page.dataframe or "Team" not in page.dataframe[-1].value.columns


def test_a_team_without_slos_has_no_scorecard(app_store: str) -> None:
    fill(app_store)
    Path("sloctl.yaml").write_text("dora:\n  teams:\n    security: [auth]\n")
    page = open_page("overview", team="security")
    assert texts(page, "info") == [
        "No scorecard of team/security is stored for 2026-W47: a team or service without "
        "SLOs in that period has none. Pick another scope in the sidebar."]
    assert not page.metric
