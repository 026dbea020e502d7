"""The app's frame, on every page: navigation, period/team/service in the URL, the data's
freshness, an empty or missing store, bad settings and the proxy login (AppTest in-process).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sloctl.store import Store
from tests.support.dashboard_app import app_store_fixture, at_clock, open_page, texts  # noqa: F401
from tests.support.dashboard_history import NOW, PREVIOUS, WEEK, fill, fill_evaluations

PAGES = ("overview", "services", "slos", "dora", "incidents", "reports")
TITLES = ["Overview", "Services", "SLOs", "DORA", "Incidents", "Reports"]


def test_every_page_renders_and_the_overview_is_the_default(app_store: str) -> None:
    fill(app_store)
    assert [t.value for t in open_page().title] == ["Overview"]
    assert [open_page(name).title[0].value for name in PAGES] == TITLES


def test_without_weekly_scorecards_the_slos_page_is_the_default(app_store: str) -> None:
    fill_evaluations(app_store)
    page = open_page()
    assert [t.value for t in page.title] == ["SLOs"]
    assert page.selectbox(key="slo").value == "payment/availability"  # least budget left
    overview = open_page("overview")
    assert texts(overview, "info")[0].startswith("No weekly scorecard is stored yet.")


def test_period_team_and_service_come_from_the_url_and_stay_in_it(app_store: str) -> None:
    fill(app_store)
    page = open_page("services", period=PREVIOUS, team="shop")
    assert page.selectbox(key="period").value == PREVIOUS
    assert page.selectbox(key="period").options == [WEEK, PREVIOUS]  # newest first
    assert page.selectbox(key="team").value == "shop"
    assert page.selectbox(key="team").options == ["All teams", "platform", "shop"]
    assert page.selectbox(key="service").value == ""
    assert page.query_params == {"period": PREVIOUS, "team": "shop"}
    # Streamlit drops the query on a page change: the next run writes it back
    page.switch_page("app_pages/dora.py")
    page.query_params.clear()
    page.run()
    assert page.query_params == {"period": PREVIOUS, "team": "shop"}
    page.selectbox(key="service").select("payment").run()
    assert page.query_params == {"period": PREVIOUS, "team": "shop", "service": "payment"}
    page.selectbox(key="team").select("").run()
    assert page.query_params == {"period": PREVIOUS, "service": "payment"}


def test_the_newest_period_is_written_into_the_url(app_store: str) -> None:
    fill(app_store)
    assert open_page().query_params == {"period": WEEK}


def test_a_value_the_store_does_not_know_falls_back_with_a_note(app_store: str) -> None:
    fill(app_store)
    page = open_page("overview", period="2020-W01", service="checkout")
    assert page.selectbox(key="period").value == WEEK
    assert page.selectbox(key="service").value == ""
    captions = texts(page, "caption")
    assert f"period '2020-W01' is not in the store; showing {WEEK}" in captions
    assert "service 'checkout' is not in the store; showing all" in captions


@pytest.mark.parametrize("name", PAGES)
def test_every_page_says_how_old_the_data_is(
    app_store: str, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    fill(app_store)
    at_clock(monkeypatch, NOW + timedelta(minutes=2))
    fresh = open_page(name)
    assert texts(fresh, "caption")[0] == (
        f"Store {app_store} · last evaluation 2026-11-27 10:00 UTC, 2 min ago")
    assert not fresh.warning
    at_clock(monkeypatch, NOW + timedelta(minutes=4))  # past 3 intervals of 60 s
    stale = open_page(name)
    assert texts(stale, "caption")[0].endswith("last evaluation 2026-11-27 10:00 UTC, 4 min ago")
    assert texts(stale, "warning") == [
        "Stale data: the last evaluation is 4 min old, more than 3 evaluation intervals "
        "(3 min). Is `sloctl serve` running? `sloctl eval` stores one evaluation now."]


def test_a_longer_interval_moves_the_stale_line(
    app_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(app_store)
    monkeypatch.setenv("SLOCTL_INTERVAL", "300")
    at_clock(monkeypatch, NOW + timedelta(minutes=14))
    assert not open_page("slos").warning
    at_clock(monkeypatch, NOW + timedelta(minutes=16))
    assert texts(open_page("slos"), "warning")[0].startswith(
        "Stale data: the last evaluation is 16 min old, more than 3 evaluation intervals "
        "(15 min).")


def test_a_missing_store_is_not_created(app_store: str) -> None:
    page = open_page()
    assert len(page.error) == 1
    assert "does not exist yet: run `sloctl eval`" in page.error[0].value
    assert not Path(app_store.removeprefix("sqlite:///")).exists()
    assert not page.metric and not page.title


@pytest.mark.parametrize("name", PAGES)
def test_an_empty_store_says_how_to_fill_it(app_store: str, name: str) -> None:
    Store(app_store).close()
    page = open_page(name)
    infos = texts(page, "info")
    assert infos[0] == (
        f"The store {app_store} holds no evaluation yet. Fill it with `sloctl eval` (one "
        "evaluation now) or `sloctl serve` (one every interval), then reload this page.")
    assert not page.metric and not page.dataframe and not page.error


def test_a_bad_store_url_shows_the_fix(app_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOCTL_STORE_URL", "nosuchdb://127.0.0.1/sloctl")
    page = open_page()
    assert len(page.error) == 1
    assert "nosuchdb://127.0.0.1/sloctl" in page.error[0].value
    assert "SLOCTL_STORE_URL" in page.error[0].value


@pytest.mark.parametrize("name", PAGES)
def test_the_proxy_login_guards_every_page(
    app_store: str, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    fill(app_store)
    monkeypatch.setenv("SLOCTL_DASHBOARD_AUTH_HEADER", "X-Forwarded-Email")
    page = open_page()
    page.switch_page(f"app_pages/{name}.py").run()
    assert [e.value for e in page.error] == [
        "Not shown: sign in through the authenticating proxy: the request has no "
        "X-Forwarded-Email header."]
    assert not page.title and not page.metric and not page.dataframe and not page.caption
