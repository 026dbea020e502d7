"""The SLOs page on the known shop history: the last evaluation's tiles and table, the week's
statuses from the stored scorecard, the burn-down of one SLO and its service's signals."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from sloctl.store import StoreReader
from tests.support.dashboard_app import (  # noqa: F401 (fixture app_store)
    app_store_fixture,
    chart_spec,
    open_page,
    texts,
    values,
)
from tests.support.dashboard_history import DOWN, NOW, fill

ORDER = ["order/availability", "order/latency", "inventory/availability", "inventory/latency",
         "payment/availability", "payment/latency", "notification/availability",
         "notification/latency", "user/availability", "user/latency"]


def chart(page: AppTest, key: str) -> tuple[list[str], list[float]]:
    """x (ISO times) and y of the first trace of the chart ``key``."""
    trace = chart_spec(page, key)["data"][0]
    return [str(x)[:19] for x in trace["x"]], values(trace["y"])


def test_tiles_hold_the_last_evaluation(app_store: str) -> None:
    fill(app_store)
    page = open_page("slos")
    assert [(m.label, m.value, m.delta) for m in page.metric] == [
        ("SLOs meeting objective", "8/10", "1 unknown"),
        ("Lowest budget remaining", "-20.0%", "payment/availability"),  # 0.6 % of 0.5 %
        ("Alerts firing", "3", "0 pending"),
        ("Last evaluation (UTC)", "Nov 27 10:00", "incomplete: 1 problem(s)"),
    ]
    assert page.metric[0].help == "unknown: notification/latency"
    assert page.metric[3].help == DOWN


def test_the_table_holds_every_slo_now(app_store: str) -> None:
    fill(app_store)
    frame = open_page("slos").dataframe[0].value
    assert [f"{r['Service']}/{r['SLO']}" for r in frame.to_dict("records")] == ORDER
    # budget left = 1 - (bad / 1e6) / (1 - objective); minutes of a 30-day window
    left = [50.0, 80.0, 80.0, 20.0, -20.0, 80.0, 80.0, math.nan, 80.0, 80.0]
    assert frame["Budget left %"].tolist() == pytest.approx(left, nan_ok=True)
    budgets = [216.0, 2160.0] * 5  # 0.5 % and 5 % of 43,200 minutes
    minutes = [b * x / 100 for b, x in zip(budgets, left, strict=True)]
    minutes[7] = math.nan
    assert frame["Budget left (min)"].tolist() == pytest.approx(minutes, nan_ok=True)
    assert frame["SLI %"].tolist()[:5] == pytest.approx([99.75, 99.0, 99.9, 96.0, 99.4])
    assert frame["Burn 1h"].tolist()[:5] == pytest.approx([0.5, 0.2, 0.2, 0.8, 1.2])
    assert frame["Alert"].tolist() == ["inactive"] * 4 + ["firing"] + ["inactive"] * 5
    met = frame["Objective met"].tolist()
    assert met[:7] == ["yes"] * 4 + ["no"] + ["yes"] * 2 and met[8:] == ["yes"] * 2
    assert frame["Objective met"].isna().tolist() == [False] * 7 + [True] + [False] * 2


def test_unknown_values_are_explained_not_zero(app_store: str) -> None:
    fill(app_store)
    page = open_page("slos")
    assert f"**unknown** values: notification/latency: {DOWN}" in texts(page, "caption")
    assert page.dataframe[0].proto.placeholder == "unknown"


def test_the_weeks_statuses_come_from_the_stored_scorecard(app_store: str) -> None:
    fill(app_store)
    page = open_page("slos")
    assert texts(page, "subheader")[1] == "SLOs over 2026-W47 (Mon 16 Nov - Sun 22 Nov 2026)"
    rows = page.dataframe[1].value.set_index("SLO")
    assert rows.index[0] == "order/availability"  # the only one not OK: worst first
    order = rows.loc["order/availability"]
    assert order["Status"] == "WARNING"
    assert order["Reason"] == "burned its budget 1.10x faster than sustainable over the period"
    assert order["Attainment %"] == pytest.approx(100 * (1 - 22_000 / 4e6))
    # window of 4 weeks: 3 x 4,000 + 22,000 bad of 4 x 20,000 budget
    assert order["Budget left %"] == pytest.approx(100 * (1 - 34_000 / 80_000))
    all_events = 2 * (4e6 + 6e6 + 2e6 + 1.5e6 + 5e6)
    assert order["Traffic share %"] == pytest.approx(100 * 4e6 / all_events)
    all_bad = (22_000 + 6_000 + 9_000 + 1_500 + 5_000) + (40_000 + 240_000 + 20_000 + 15_000
                                                           + 50_000)
    assert order["Weighted impact %"] == pytest.approx(100 * 22_000 / all_bad)
    assert order["Attainment change pp"] == pytest.approx(100 * (4_000 - 22_000) / 4e6)
    assert set(rows["Status"]) == {"WARNING", "OK"}
    combined = 1 - all_bad / all_events
    assert (f"Combined over the organisation's SLOs (events-weighted): SLI "
            f"{combined * 100:.3f} %, 9 of 10 OK, 0 breached.") in texts(page, "caption")


def test_the_burn_down_follows_the_slo_of_the_url(app_store: str) -> None:
    fill(app_store)
    page = open_page("slos", slo="inventory/latency")
    assert page.selectbox(key="slo").value == "inventory/latency"
    assert page.query_params["slo"] == "inventory/latency"
    assert texts(page, "subheader")[-1] == "Golden signals of inventory"
    with StoreReader(app_store) as reader:
        since = NOW - timedelta(days=30)  # the default range
        history = reader.evaluations.slo_history("inventory/latency", since, NOW, 500)
        signals = reader.evaluations.signal_history("inventory", since, NOW, 500)
    x, y = chart(page, "burn_down")
    assert x == [t.strftime("%Y-%m-%dT%H:%M:%S") for t in history["at"]]
    assert y[0] == pytest.approx(21.44) and y[-1] == pytest.approx(20.0)  # 39,280 of 1e6, 72 h ago
    assert y == pytest.approx((history["budget_remaining"] * 100).tolist())
    _, traffic = chart(page, "golden_signals")
    assert traffic == pytest.approx(signals["traffic"].tolist())
    assert traffic[-1] == 60.0


def test_an_unknown_slo_says_why(app_store: str) -> None:
    fill(app_store)
    page = open_page("slos", slo="notification/latency")
    assert f"budget remaining now: **unknown** ({DOWN})" in texts(page, "caption")


@pytest.mark.parametrize(("params", "kept", "least_budget_first"), [
    ({"service": "payment"}, ORDER[4:6], ORDER[4:6]),
    ({"team": "platform"}, ORDER[6:], ["notification/availability", "user/availability",
                                       "user/latency", "notification/latency"]),
])
def test_the_filters_keep_their_services(app_store: str, params: dict[str, str],
                                         kept: list[str], least_budget_first: list[str]) -> None:
    fill(app_store)
    page = open_page("slos", **params)
    now = page.dataframe[0].value
    assert [f"{r['Service']}/{r['SLO']}" for r in now.to_dict("records")] == kept
    assert sorted(page.dataframe[1].value["SLO"]) == sorted(kept)
    assert page.selectbox(key="slo").options == least_budget_first
