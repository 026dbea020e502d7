"""The DORA page on the known shop history: the week's four keys with levels and goals (the
stored weekly scorecard), 12-week trends per scope and per team, and the rolling tiles
``sloctl serve`` stores (the demo history's known DORA values)."""

from __future__ import annotations

import pytest

from tests.support.dashboard_app import (  # noqa: F401 (fixture app_store)
    app_store_fixture,
    chart_spec,
    open_page,
    texts,
    values,
)
from tests.support.dashboard_history import fill, fill_evaluations


def test_the_weeks_figures_with_levels_and_goals(app_store: str) -> None:
    fill(app_store)
    page = open_page("dora")
    lines = page.dataframe[0].value
    assert lines[["Metric", "This period", "Change", "Level", "Goal", "Goal met"]].to_dict(
        "records") == [
        {"Metric": "Deployment frequency", "This period": "1.71/day",  # 60 in 7 d, 5 services
         "Change": "▼ -0.03/day worse", "Level": "medium (2023)",
         "Goal": ">= 3 deployments/day/service", "Goal met": "missed"},
        {"Metric": "Lead time for changes", "This period": "1.8 h", "Change": "▼ +17 min worse",
         "Level": "elite (2023)", "Goal": "< 1 h", "Goal met": "missed"},
        {"Metric": "Change failure rate", "This period": "1.67 %", "Change": "▼ +0.03 pp worse",
         "Level": "elite (2023)", "Goal": "< 3 %", "Goal met": "met"},  # 1 of 60
        {"Metric": "Failed deployment recovery time", "This period": "30 min",
         "Change": "▲ -45 min better", "Level": "elite (2023)", "Goal": "< 15 min",
         "Goal met": "missed"},
        {"Metric": "Time to restore (incidents)", "This period": "20 min",  # 10:30-10:50
         "Change": "no previous value", "Level": "no level (2023)", "Goal": "< 15 min",
         "Goal met": "missed"},
        {"Metric": "Rework rate (beta)", "This period": "0.00 %", "Change": "▲ -1.64 pp better",
         "Level": "no level (2023)", "Goal": "", "Goal met": ""},  # the hotfix was 2026-W46
    ]
    assert lines["n (period)"].tolist() == [60, 122, 60, 1, 1, 60]
    assert texts(page, "caption")[1].startswith(
        "Organisation · 2026-W47 (Mon 16 Nov - Sun 22 Nov 2026); trailing 12 weeks")


def test_the_trends_of_the_scope_and_of_every_team(app_store: str) -> None:
    fill(app_store)
    page = open_page("dora")
    panels = chart_spec(page, "dora_trends")
    assert [a["text"] for a in panels["layout"]["annotations"]] == [
        "Deployments per day per service (per day)<br>goal >= 3 deployments/day/service",
        "Lead time (median) (min)<br>goal < 1 h",
        "Change failure rate (%)<br>goal < 3 %",
        "Time to restore (median) (min)<br>goal < 15 min"]
    failure = panels["data"][2]
    assert values(failure["x"])[-2:] == ["2026-W46", "2026-W47"]
    assert values(failure["y"])[-2:] == pytest.approx([100 / 61, 100 / 60])
    page.selectbox(key="dora_metric").select("change_failure_rate").run()
    teams = chart_spec(page, "team_trends")
    assert [t["name"] for t in teams["data"]] == ["organisation", "platform", "shop"]
    shop = values(teams["data"][2]["y"])
    assert shop[-1] == pytest.approx(100 / 40)  # 1 failed of order's 20, inventory's and
    # payment's 10 each in the week
    table = page.dataframe[1].value.set_index("Scope")
    assert table.loc["shop", "Change failure rate"] == "1.40 % (elite)"
    assert table.loc["platform", "Time to restore (incidents)"] == "n/a (no level)"


def test_a_service_shows_its_own_figures(app_store: str) -> None:
    fill(app_store)
    page = open_page("dora", service="payment")
    lines = page.dataframe[0].value.set_index("Metric")
    assert lines.loc["Change failure rate", "This period"] == "10.00 %"  # 1 of payment's 10
    assert texts(page, "subheader") == ["Rolling, as `sloctl serve` computes it"]  # no teams
    assert page.selectbox(key="dora_scope").value == "payment/production"


def test_the_rolling_tiles_hold_the_known_values(app_store: str) -> None:
    fill(app_store)
    page = open_page("dora")
    assert page.selectbox(key="dora_scope").value == "organisation"
    assert page.selectbox(key="dora_scope").options == [
        "organisation",
        *[f"{s}/production" for s in ("inventory", "notification", "order", "payment", "user")],
    ]
    assert [(m.label, m.value, m.delta) for m in page.metric] == [
        # 264 deployments in 30 days; none in the 30 days before: better than 0/day
        ("Deployment frequency", "8.80/day", "elite (2023) · better"),
        ("Lead time for changes", "1.6 h", "elite (2023) · no trend"),  # 5820 s median
        ("Change failure rate", "0.8 %", "elite (2023) · no trend"),  # 2 of 263
        ("Failed deployment recovery", "58 min", "elite (2023) · no trend"),  # 40 and 75 min
        ("Time to restore", "30 min", "no level (2023) · no trend"),
        ("Rework rate (beta)", "0.8 %", "no level (2023) · no trend"),  # 2 of 264
    ]
    assert [m.help for m in page.metric][:4] == [
        "House goal >= 3 deployments/day/service: missed. n = 264. Previous period: 0.00/day.",
        "House goal < 1 h: missed. n = 522, p90 2.7 h. Previous period: unknown.",
        "House goal < 3 %: met. n = 263 (2 of 263). Previous period: unknown.",
        "House goal < 15 min: missed. n = 2, p90 72 min. Previous period: unknown.",
    ]
    assert page.metric[4].help.endswith(
        "No level: the 2023 report replaced time to restore with failed deployment recovery "
        "time; use report year 2021 to grade it.")
    page.selectbox(key="dora_scope").set_value("order/production").run()
    tiles = [(m.label, m.value, m.delta) for m in page.metric]
    assert tiles[0] == ("Deployment frequency", "2.93/day", "elite (2023) · better")  # 88/30
    assert tiles[2] == ("Change failure rate", "1.1 %", "elite (2023) · no trend")  # 1 of 87
    assert tiles[3] == ("Failed deployment recovery", "40 min", "elite (2023) · no trend")


def test_without_scorecards_the_page_says_how_to_get_them(app_store: str) -> None:
    fill_evaluations(app_store)
    page = open_page("dora")
    assert texts(page, "info")[0].startswith("No weekly scorecard is stored yet.")
    assert any(c.startswith("No DORA scorecard stored yet") for c in texts(page, "caption"))
    assert not page.metric and not page.dataframe
