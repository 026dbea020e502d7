"""The scorecard's pure build on known inputs (sloctl.report.sample): statuses and reasons,
Grafana's combined SLI and weighted impact, what changed, teams, and reproducibility through the
store's JSON (built twice from the stored inputs: identical)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sloctl.report import codec
from sloctl.report.build import build_all, build_scorecard, scopes, slo_status
from sloctl.report.inputs import ReportInputs, SloFigures, Thresholds
from sloctl.report.period import (
    PeriodError,
    iso_week,
    last_complete_week,
    parse_period,
    range_period,
)
from sloctl.report.sample import sample_inputs
from sloctl.report.scorecard import ORGANISATION, PeriodScorecard, Scope, ScopeKind, Status

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return sample_inputs(5, BERLIN)


@pytest.fixture(scope="module")
def card(inputs: ReportInputs) -> PeriodScorecard:
    return build_scorecard(inputs, ORGANISATION, BERLIN)


def test_weeks_are_cut_in_the_zone_and_dst_changes_their_length() -> None:
    week = iso_week("2026-W13", BERLIN)  # Sunday 29 March 2026: clocks go forward
    assert week.start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert week.end - week.start == timedelta(hours=167)
    autumn = iso_week("2026-W43", BERLIN)  # Sunday 25 October: clocks go back
    assert autumn.end - autumn.start == timedelta(hours=169)
    assert week.previous(1, BERLIN).key == "2026-W12"
    assert iso_week("2027-W01", BERLIN).previous(1, BERLIN).key == "2026-W53"
    monday = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    assert last_complete_week(monday, BERLIN).key == "2026-W49"
    assert parse_period("2026-W49", BERLIN) == iso_week("2026-W49", BERLIN)
    r = range_period(monday - timedelta(days=3), monday)
    assert parse_period(r.key, UTC) == r and r.previous().end == r.start


@pytest.mark.parametrize(("key", "message"), [
    ("2026-W54", "week '2026-W54' does not exist: 2026 has weeks 01 to 53"),
    ("2026-49", "invalid period '2026-49'"),
    ("2026-W49x", "invalid period"),
])
def test_bad_periods_say_how_to_write_them(key: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message.replace("(", r"\(")):
        parse_period(key, BERLIN)


def test_statuses_and_their_reasons(card: PeriodScorecard) -> None:
    by_id = {s.slo_id: s for s in card.slos}
    assert by_id["svc-00/availability"].status is Status.BREACHED
    assert by_id["svc-00/availability"].reason == "error budget of its 28d window exhausted"
    assert by_id["svc-00/availability"].previous_status is Status.OK
    assert by_id["svc-01/availability"].status is Status.WARNING
    assert by_id["svc-01/availability"].reason == "less than 25 % of its 28d budget left"
    nodata = by_id["svc-04/latency"]
    assert nodata.status is Status.INSUFFICIENT_DATA and nodata.attainment is None
    assert nodata.reason.startswith("no series match http_server_request_duration_seconds")
    assert by_id["svc-02/latency"].status is Status.OK
    assert [s.status for s in card.slos[:3]] == [Status.BREACHED, Status.WARNING,
                                                 Status.INSUFFICIENT_DATA]


def test_a_period_that_burned_too_fast_warns_and_no_events_is_never_100_percent() -> None:
    t = Thresholds()
    base = SloFigures("a/b", "a", "b", 0.995, "28d", None, None, 1000.0, 6.0, 0.994, 1.2,
                      0.1, 0.9)
    assert slo_status(base, t) == (
        Status.WARNING, "burned its budget 1.20x faster than sustainable over the period")
    empty = SloFigures("a/b", "a", "b", 0.995, "28d", None, None, 0.0, 0.0, None, None, None,
                       0.9, no_data_reason="no traffic in 7d")
    assert slo_status(empty, t) == (Status.INSUFFICIENT_DATA, "no traffic in 7d")


def test_combined_sli_and_weighted_impact_are_over_all_events(card: PeriodScorecard) -> None:
    # 9 SLOs with events: 16 M events, 30,000 bad (8,000 + 9,000 + 0.1 % of the other 13 M)
    events = sum(s.events or 0 for s in card.slos)
    bad = sum(s.bad_events or 0 for s in card.slos)
    assert (events, bad) == (16_000_000.0, 30_000.0)
    assert card.combined.sli == pytest.approx(1 - 30_000 / 16_000_000, abs=1e-15)
    by_id = {s.slo_id: s for s in card.slos}
    assert by_id["svc-01/availability"].weighted_impact == pytest.approx(9_000 / 30_000)
    assert by_id["svc-01/availability"].traffic_share == pytest.approx(2 / 16)
    assert sum(s.weighted_impact or 0 for s in card.slos) == pytest.approx(1.0)
    availability = card.kpi("availability")
    assert availability.value == pytest.approx(1 - 23_000 / 9_000_000, abs=1e-15)
    assert availability.goal == "99.95 %" and availability.goal_met is False
    assert availability.change.previous == pytest.approx(1 - 19_000 / 9_000_000, abs=1e-15)
    assert len(availability.trend) == 12


def test_what_changed(card: PeriodScorecard) -> None:
    assert [(c.kind, c.subject) for c in card.changes] == [
        ("new_breach", "svc-00/availability"),
        ("budget_drop", "svc-00/availability"),
        ("first_incident", "svc-00"),
        ("failed_deployment", "svc-00/production@2.0.0-bad 2026-12-02T09:00:00+00:00"),
    ]
    assert card.changes[1].text == ("svc-00/availability: budget left 30.0 % -> -60.0 % "
                                    "(-90.0 pp)")
    assert card.incidents.count == 1 and card.incidents.median_restore == 1500.0
    assert card.incidents.goal == "< 15 min" and card.incidents.goal_met is False


def test_teams_and_what_is_left_out(inputs: ReportInputs, card: PeriodScorecard) -> None:
    found, notes = scopes(inputs)
    assert [s.key for s in found] == ["organisation", "team/payments", "team/platform",
                                      "service/svc-00", "service/svc-01", "service/svc-02",
                                      "service/svc-03", "service/svc-04"]
    assert notes == (
        "team security has no SLOs (no spec carries the label team: security): left out of "
        "the team scorecards",
        "1 service(s) without a team label count for the organisation only: svc-04",
    )
    assert [t.team for t in card.teams] == ["payments", "platform"]
    payments = build_scorecard(inputs, Scope(ScopeKind.TEAM, "payments"), BERLIN)
    assert {s.service for s in payments.slos} == {"svc-00", "svc-02"}
    assert payments.combined.sli == pytest.approx(1 - 15_000 / 8_000_000, abs=1e-15)
    assert [s.service for s in payments.services] == ["svc-00", "svc-02"]
    assert payments.incidents.count == 1 and payments.teams == ()


def test_dora_figures_carry_levels_sample_sizes_and_goals(card: PeriodScorecard) -> None:
    lines = {d.metric: d for d in card.dora}
    cfr = lines["change_failure_rate"]
    assert (cfr.week, cfr.week_n) == (pytest.approx(1 / 76), 76)
    assert cfr.goal == "< 3 %" and cfr.goal_met is True and cfr.level == "elite"
    assert cfr.report_year == 2023 and card.dora_trailing_weeks == 12
    lead = lines["lead_time"]
    assert lead.week == 1800.0 and lead.goal == "< 1 h" and lead.goal_met is True
    assert lines["deployment_frequency"].week == pytest.approx(77 / 7 / 5)


def test_built_twice_from_the_stored_inputs_it_is_identical(inputs: ReportInputs) -> None:
    stored = json.loads(json.dumps(codec.encode(inputs)))  # what the store keeps
    again = codec.decode(ReportInputs, stored)
    assert again == inputs
    first = build_all(again, BERLIN)
    second = build_all(codec.decode(ReportInputs, stored), BERLIN)
    assert first == second == build_all(inputs, BERLIN)
    card = first["organisation"]
    assert codec.decode(PeriodScorecard, json.loads(json.dumps(codec.encode(card)))) == card
