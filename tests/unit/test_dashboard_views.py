"""The app's pure parts: the data's age, KPI tiles, the alert rules' tile, the DORA scope of
the filters and the scorecard's downloads (HTML and CSV), from known values."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from sloctl.dashboard import dora_view, kpi_view, report_export
from sloctl.dashboard.freshness import age_text, freshness
from sloctl.report.build import build_all
from sloctl.report.sample import sample_inputs
from sloctl.report.scorecard import Change, Kpi, PeriodScorecard

AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def card() -> PeriodScorecard:
    """The organisation's scorecard of ``sloctl.report.sample`` with 3 services."""
    return build_all(sample_inputs(3, UTC), UTC)["organisation"]


@pytest.mark.parametrize(("seconds", "text"), [
    (-3, "0 s"), (45, "45 s"), (89, "89 s"), (90, "2 min"), (720, "12 min"),
    (5400, "1.5 h"), (12600, "3.5 h"), (172800, "2.0 d"),
])
def test_age_text(seconds: float, text: str) -> None:
    assert age_text(seconds) == text


def test_stale_past_three_intervals() -> None:
    fresh = freshness(AT, AT + timedelta(seconds=180), 60, UTC)
    assert (fresh.line, fresh.stale, fresh.warning) == (
        "last evaluation 2026-12-07 08:00 UTC, 3 min ago", False, None)
    stale = freshness(AT, AT + timedelta(seconds=181), 60, UTC)
    assert stale.stale and stale.warning is not None
    assert stale.warning.startswith("Stale data: the last evaluation is 3 min old, more than 3 "
                                    "evaluation intervals (3 min).")
    assert freshness(None, AT, 60, UTC).stale


def test_a_kpi_tile_writes_value_goal_change_and_trend() -> None:
    kpi = Kpi("lead_time", "Lead time (median)", 5400.0, "seconds", "< 1 h", False,
              Change(3600.0, 1800.0, "worse"), (3000.0, None, 5400.0), 12, "12 change(s)")
    tile = kpi_view.kpi_tile(kpi)
    assert (tile.label, tile.value, tile.delta, tile.color, tile.note) == (
        ":red[:material/cancel:] Lead time (median)", "1.5 h", "▼ +30 min worse", "red",
        "goal < 1 h")
    assert tile.help == "Goal < 1 h: missed. Previous period: 60 min. 12 change(s)."
    assert tile.trend == (50.0, 90.0)  # minutes; the unknown period left out, never 0


def test_an_unknown_kpi_reads_na_never_zero() -> None:
    kpi = Kpi("availability", "Availability", None, "ratio", "99.95 %", None,
              Change(None, None, None), (), None)
    tile = kpi_view.kpi_tile(kpi)
    assert (tile.label, tile.value, tile.delta, tile.color, tile.note) == (
        ":gray[:material/help:] Availability", "n/a", "no previous value", "gray",
        "goal 99.95 %")
    assert tile.trend == ()


def test_the_alert_rules_tile(card: PeriodScorecard) -> None:
    tile = kpi_view.alert_rules_tile(card)  # svc-00 ran 0.8 % errors; every p95 below 300 ms
    assert (tile.label, tile.value, tile.delta, tile.note) == (
        ":red[:material/cancel:] Services inside the alert rules", "2/3", "1 outside",
        "goal errors < 0.5 %, p95 < 300 ms")
    assert tile.help == ("Goal: every service inside the alert rules (errors < 0.5 %, p95 < "
                         "300 ms): missed. Outside: svc-00 errors 0.80 %.")


def test_the_tiles_follow_the_emails_order(card: PeriodScorecard) -> None:
    tiles = kpi_view.tiles(card)
    assert [t.label.split(" ", 1)[1] for t in tiles] == [
        "Availability", "SLOs within budget", "Deployments per day per service",
        "Lead time (median)", "Change failure rate", "Time to restore (median)",
        "Services inside the alert rules"]
    # svc-00: 8,000 of 1e6 bad; svc-01: 9,000 of 2e6; svc-02: 3,000 of 3e6
    assert tiles[0].value == f"{(1 - 20_000 / 6e6) * 100:.3f} %"


@pytest.mark.parametrize(("team", "service", "scope"), [
    (None, None, "organisation"), ("payments", None, "team payments"),
    ("payments", "order", "order/production"), (None, "nosuch", "organisation"),
])
def test_the_dora_scope_of_the_filters(team: str | None, service: str | None,
                                       scope: str) -> None:
    scopes = ["organisation", "team payments", "order/production"]
    assert dora_view.scope_of(team, service, scopes) == scope


def test_the_csv_holds_every_slo_with_its_stored_numbers(card: PeriodScorecard) -> None:
    rows = list(csv.DictReader(io.StringIO(report_export.slo_csv(card))))
    assert [r["SLO"] for r in rows] == [s.slo_id for s in card.slos]
    first = rows[0]
    assert first["SLO"] == "svc-00/availability" and first["Status"] == "BREACHED"
    assert float(first["Attainment %"]) == pytest.approx(99.2)
    assert float(first["Budget left %"]) == pytest.approx(-60.0)
    unknown = next(r for r in rows if r["Status"] == "INSUFFICIENT_DATA")
    assert unknown["Attainment %"] == "" and unknown["Budget left %"] == ""  # never 0


def test_the_html_download_is_one_safe_page(card: PeriodScorecard) -> None:
    page = report_export.html_document(card, UTC)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "://" not in page and "<link" not in page
    assert "<title>Organisation scorecard 2026-W49</title>" in page
    assert f"<strong>{card.headline}</strong>" in page
    assert '99.200 %</td>' in page  # svc-00/availability's attainment, as the email writes it
    assert "no series match http_server_request_duration_seconds_bucket{service_name=&quot;" \
           "svc-02&quot;}" in page  # escaped
    assert report_export.file_stem(card) == "sloctl-scorecard-2026-W49-organisation"
