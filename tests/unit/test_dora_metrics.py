"""DORA figures on a synthetic history whose every value is computed by hand in the comments.

Window: Mon 2026-03-02 00:00 UTC to Mon 2026-03-16 00:00 UTC (14 days), time zone Europe/Berlin
(UTC+1 in March before the DST switch on 03-29). Service checkout/production:

  D0  v1.0  a000000  02-27 10:00  before the window (head commit 09:00)
  D1  v1.1  a111111  03-02 10:00  commits c1 08:00, c2 09:30; sent twice (same key), plus the same
                                   SHA again at 10:05: collapses into one deployment dated 10:05
  D2  v1.2  b222222  03-03 23:30  head commit 22:30; 03-04 00:30 in Berlin (time-zone boundary)
  D3  v1.3  c333333  03-05 12:00  commits c3 13:00 (negative: dropped), c4 11:00
  D4  v1.2  b222222  03-05 12:40  rollback to D2's commit -> D3 failed (first after the target)
  D5  v1.4  d444444  03-06 09:00  head 08:00
  D6  v1.4-hotfix1   03-06 09:30  head 09:20; a hotfix -> D5 failed, recovered by D6
  D7  v1.5  f666666  03-10 10:00  head 09:00
  D8  v1.6  7777777  03-11 12:10  head 11:10; deployed while I5 (attributed to D7) is open
      v1.6  7777777  03-12 09:00  same commit again, > 10 min later: a redeploy, not counted
      v1.7  8888888  03-12 10:00  status failure: a failed attempt, not counted
      v1.7  (staging)03-12 11:00  not production: ignored
  D9  v1.7  8888888  03-13 16:00  commits c5 15:00, c6 14:00

Incidents (checkout/production):
  I1 critical HighErrorRate 03-05 12:20-12:50  D3 in effect 20 min before: in_effect_strong
  I2 page     LatencyHigh   03-09 14:00-15:00  last deployment D6 3 days before: unattributed
  I3 critical HighErrorRate 03-10 09:50-10:10  started before D7; D6 too old: unattributed
  I4 critical HighErrorRate 03-10 10:20-10:30  D7 in effect, but HighErrorRate (I3) was already
                                               firing when D7 finished: unattributed
  I5 critical Crash version=v1.5 03-11 12:00-12:30  exact label -> D7 (26 h after it)
  I6 warning  Slow          03-12 09:10-09:20  severity does not qualify: ignored
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sloctl.dora.compute import Scorecard, percentile, rollups, scorecard, scorecard_with_trend
from sloctl.dora.history import Attribution, ServiceHistory, build_histories
from sloctl.dora.levels import Level, Metric
from sloctl.dora.model import Commit, Deployment, DeployStatus, DoraConfig, DoraIncident

BERLIN = ZoneInfo("Europe/Berlin")
SINCE = datetime(2026, 3, 2, tzinfo=UTC)
UNTIL = datetime(2026, 3, 16, tzinfo=UTC)
CONFIG = DoraConfig()


def t(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def dep(
    version: str,
    sha: str,
    finished: datetime,
    commit_time: datetime | None = None,
    commits: tuple[Commit, ...] = (),
    status: DeployStatus = DeployStatus.SUCCESS,
    service: str = "checkout",
    environment: str = "production",
) -> Deployment:
    return Deployment(
        service, environment, version, sha, finished, status, commit_time, None, commits
    )


def inc(
    id_: str,
    start: datetime,
    end: datetime | None,
    alertname: str,
    severity: str = "critical",
    **labels: str,
) -> DoraIncident:
    return DoraIncident(
        id_, "checkout", "production", start, end, severity, {"alertname": alertname, **labels}
    )


D1 = dep("v1.1", "a111111", t(2, 10), commits=(Commit("c1", t(2, 8)), Commit("c2", t(2, 9, 30))))
DEPLOYMENTS = [
    dep("v1.0", "a000000", t(27, 10, month=2), t(27, 9, month=2)),
    D1,
    D1,  # the same event twice: one key
    dep("v1.1", "a111111", t(2, 10, 5)),  # same commit 5 min later: collapsed into D1
    dep("v1.2", "b222222", t(3, 23, 30), t(3, 22, 30)),
    dep("v1.3", "c333333", t(5, 12), commits=(Commit("c3", t(5, 13)), Commit("c4", t(5, 11)))),
    dep("v1.2", "b222222", t(5, 12, 40), t(3, 22, 30), status=DeployStatus.ROLLBACK),
    dep("v1.4", "d444444", t(6, 9), t(6, 8)),
    dep("v1.4-hotfix1", "e555555", t(6, 9, 30), t(6, 9, 20)),
    dep("v1.5", "f666666", t(10, 10), t(10, 9)),
    dep("v1.6", "7777777", t(11, 12, 10), t(11, 11, 10)),
    dep("v1.6", "7777777", t(12, 9), t(11, 11, 10)),  # redeploy
    dep("v1.7", "8888888", t(12, 10), t(12, 9), status=DeployStatus.FAILURE),
    dep("v1.7", "8888888", t(12, 11), t(12, 9), environment="staging"),
    dep("v1.7", "8888888", t(13, 16), commits=(Commit("c5", t(13, 15)), Commit("c6", t(13, 14)))),
]
INCIDENTS = [
    inc("I1", t(5, 12, 20), t(5, 12, 50), "HighErrorRate"),
    inc("I2", t(9, 14), t(9, 15), "LatencyHigh", severity="page"),
    inc("I3", t(10, 9, 50), t(10, 10, 10), "HighErrorRate"),
    inc("I4", t(10, 10, 20), t(10, 10, 30), "HighErrorRate"),
    inc("I5", t(11, 12), t(11, 12, 30), "Crash", version="v1.5"),
    inc("I6", t(12, 9, 10), t(12, 9, 20), "Slow", severity="warning"),
]


@pytest.fixture(scope="module")
def history() -> ServiceHistory:
    histories = build_histories(DEPLOYMENTS, INCIDENTS, CONFIG)
    assert list(histories) == [("checkout", "production")]  # staging is not production
    return histories[("checkout", "production")]


@pytest.fixture(scope="module")
def card(history: ServiceHistory) -> Scorecard:
    return scorecard_with_trend([history], SINCE, UNTIL, BERLIN, CONFIG, "checkout/production")


def test_counted_deployments_collapse_duplicates_and_skip_redeploys(
    history: ServiceHistory,
) -> None:
    versions = [f.deployment.version for f in history.deployments]
    # D0..D9: ten counted deployments; D1 dated by the latest of its duplicates (10:05).
    assert versions == [
        "v1.0", "v1.1", "v1.2", "v1.3", "v1.2", "v1.4", "v1.4-hotfix1", "v1.5", "v1.6", "v1.7"
    ]  # fmt: skip
    assert history.deployments[1].finished == t(2, 10, 5)
    assert history.duplicates == 2  # the repeated key + the 10:05 event
    assert [d.finished for d in history.redeploys] == [t(12, 9)]
    assert [d.version for d in history.failed_attempts] == ["v1.7"]


def test_failures_rollbacks_hotfixes_and_rework(history: ServiceHistory) -> None:
    by_version = {f.deployment.version: f for f in history.deployments if f.rollback is False}
    rollback = next(f for f in history.deployments if f.rollback)
    assert rollback.finished == t(5, 12, 40)
    assert by_version["v1.3"].failed_by == ["rollback", "in_effect_strong"]
    assert by_version["v1.4"].failed_by == ["hotfix"]
    assert by_version["v1.5"].failed_by == ["exact"]
    assert [f.deployment.version for f in history.deployments if f.failed] == [
        "v1.3", "v1.4", "v1.5"
    ]  # fmt: skip
    rework = {f.deployment.version: f.rework_reason for f in history.deployments if f.rework}
    # The rollback D4 (v1.2 again), the hotfix D6, and D8 deployed while I5 was open.
    assert rework == {
        "v1.2": "rollback",
        "v1.4-hotfix1": "hotfix",
        "v1.6": "deployed during an attributed incident",
    }


def test_incident_attribution_reasons(history: ServiceHistory) -> None:
    links = {x.incident.id: x for x in history.incidents}
    assert "I6" not in links  # severity warning does not qualify
    assert {i: (x.reason, x.deployment and x.deployment.version) for i, x in links.items()} == {
        "I1": (Attribution.STRONG, "v1.3"),
        "I2": (Attribution.UNATTRIBUTED, None),
        "I3": (Attribution.UNATTRIBUTED, None),
        "I4": (Attribution.UNATTRIBUTED, None),
        "I5": (Attribution.EXACT, "v1.5"),
    }
    # I2: D6 finished 03-06 09:30, I2 started 03-09 14:00: 76.5 h > 24 h.
    assert "76.5 h before it, beyond the 24 h attribution window" in links["I2"].detail
    assert links["I4"].detail == "HighErrorRate was already firing when v1.5 was deployed"


def test_recovery_of_each_failed_deployment(history: ServiceHistory) -> None:
    rec = {
        f.deployment.version: (f.recovered_at, f.recovered_by, f.detection_lag)
        for f in history.deployments
        if f.failed
    }
    # D3: the rollback at 12:40 is followed by I1 still firing until 12:50 (inside the 15 min
    # settle period), so recovery is I1's end. D5: its hotfix at 09:30, no alert after it.
    assert rec == {
        "v1.3": (t(5, 12, 50), "incident resolved", 20 * 60.0),
        "v1.4": (t(6, 9, 30), "hotfix v1.4-hotfix1", None),
        "v1.5": (t(11, 12, 30), "incident resolved", 26 * 3600.0),
    }


def test_deployment_frequency_in_berlin_time(card: Scorecard) -> None:
    f = card.figure(Metric.DEPLOYMENT_FREQUENCY)
    assert f.n == 9  # D1..D9
    assert f.value == pytest.approx(9 / 14)  # 0.642857 per day over 14 days
    per_day = f.details["per_day"]
    assert isinstance(per_day, dict)
    # D2 at 03-03 23:30 UTC is 03-04 00:30 in Berlin.
    assert (per_day["2026-03-03"], per_day["2026-03-04"]) == (0, 1)
    assert per_day["2026-03-05"] == 2 and per_day["2026-03-06"] == 2
    assert len(per_day) == 15  # 03-02 .. 03-16 local (the window ends 03-16 00:59 Berlin)
    # W10: D1, D2, D3, D4, D5, D6 = 6; W11: D7, D8, D9 = 3; W12 (03-16 only) = 0.
    assert f.details["per_week"] == {"2026-W10": 6, "2026-W11": 3, "2026-W12": 0}
    # Deployment days: W10 {02, 04, 05, 06} = 4, W11 {10, 11, 13} = 3; median 3.5 -> high.
    assert f.details["weekly_median"] == 3.5
    assert f.details["monthly_median"] == 7.0  # no complete month: March's 7 deployment days
    assert (f.level, f.report_year) == (Level.HIGH, 2023)
    # Goal 3/day/service; 0.64 is below it. Previous period 02-16..03-02: D0 only, 1/14.
    assert f.goal is not None and f.goal.met is False
    assert f.previous == pytest.approx(1 / 14)
    assert f.trend == "better"


def test_lead_time_median_p90_lower_bound_and_negatives(card: Scorecard) -> None:
    f = card.figure(Metric.LEAD_TIME)
    # Samples (s): D1 c1 10:05-08:00 = 7500, c2 10:05-09:30 = 2100; D2 3600 (head); D3 c4 3600
    # (c3 -3600 dropped); D4 none (commit already delivered by D2); D5 3600; D6 600; D7 3600;
    # D8 3600; D9 c5 3600, c6 7200.
    # Sorted: 600 2100 3600 3600 3600 3600 3600 3600 7200 7500 (n = 10)
    # median: position 4.5 -> 3600; p90: position 8.1 -> 7200 + 0.1 * 300 = 7230.
    assert (f.n, f.value, f.p90) == (10, 3600.0, pytest.approx(7230.0))
    assert f.lower_bound is True  # D2, D5, D6, D7, D8 have no commit list
    assert any("1 negative lead time(s) dropped" in note for note in f.notes)
    assert (f.level, f.report_year) == (Level.ELITE, 2023)  # < 1 day
    assert f.goal is not None and f.goal.met is False  # 1 h is not < 1 h
    assert (f.previous, f.trend) == (3600.0, "same")  # D0: 10:00 - 09:00


def test_change_failure_rate_excludes_rollbacks(card: Scorecard) -> None:
    f = card.figure(Metric.CHANGE_FAILURE_RATE)
    # 9 deployments - 1 rollback (D4) = 8; failed D3, D5, D7 -> 3 / 8 = 0.375.
    assert (f.numerator, f.denominator, f.n, f.value) == (3, 8, 8, 0.375)
    assert f.details["failed_by"] == {"exact": 1, "hotfix": 1, "rollback": 1}
    assert f.level == Level.LOW  # > 15 %
    assert f.goal is not None and f.goal.met is False
    assert (f.previous, f.trend) == (0.0, "worse")  # D0 alone, not failed: 0 / 1


def test_failed_deployment_recovery_time(card: Scorecard) -> None:
    f = card.figure(Metric.RECOVERY_TIME)
    # D5 09:00 -> 09:30 = 1800; D3 12:00 -> 12:50 = 3000; D7 03-10 10:00 -> 03-11 12:30 = 95400.
    # median 3000; p90: position 1.8 -> 3000 + 0.8 * (95400 - 3000) = 76920.
    assert (f.n, f.value, f.p90) == (3, 3000.0, pytest.approx(76920.0))
    assert f.level == Level.ELITE  # median 50 min < 1 h
    assert card.open_failures == ()


def test_time_to_restore_counts_every_qualifying_incident(card: Scorecard) -> None:
    f = card.figure(Metric.TIME_TO_RESTORE)
    # I1 1800, I2 3600, I3 1200, I4 600, I5 1800 (I6 is a warning).
    # Sorted 600 1200 1800 1800 3600: median 1800; p90 position 3.6 -> 1800 + 0.6 * 1800 = 2880.
    assert (f.n, f.value, f.p90) == (5, 1800.0, pytest.approx(2880.0))
    assert f.level is None
    assert f.no_level_reason is not None and "use report year 2021" in f.no_level_reason
    assert f.goal is not None and f.goal.met is False  # 30 min is not < 15 min


def test_rework_rate(card: Scorecard) -> None:
    f = card.figure(Metric.REWORK_RATE)
    # D4 rollback, D6 hotfix, D8 during I5: 3 of 9.
    assert (f.numerator, f.denominator, f.value) == (3, 9, pytest.approx(1 / 3))
    assert f.details["rework_by"] == {"during a failure": 1, "hotfix": 1, "rollback": 1}
    assert f.level is None and f.no_level_reason is not None


def test_counts_and_data_quality(card: Scorecard) -> None:
    assert (card.redeploys, card.failed_attempts, card.duplicates) == (1, 1, 2)
    assert card.data_quality == {
        "unattributed_incidents": 3,  # I2, I3, I4
        "deployments_without_commit_time": 0,
        "negative_lead_times_dropped": 1,  # c3
        "head_commit_only_deployments": 5,  # D2, D5, D6, D7, D8
    }


def test_report_year_2021_grades_time_to_restore(history: ServiceHistory) -> None:
    config = DoraConfig(report_year=2021)
    card = scorecard([history], SINCE, UNTIL, BERLIN, config, "checkout/production")
    assert card.figure(Metric.TIME_TO_RESTORE).level == Level.ELITE  # 30 min < 1 h
    assert card.figure(Metric.LEAD_TIME).level == Level.HIGH  # 1 h is not < 1 h
    assert card.figure(Metric.CHANGE_FAILURE_RATE).level == Level.LOW  # 37.5 % > 30 %
    assert card.figure(Metric.RECOVERY_TIME).level is None


SEARCH = [
    dep("s1", "5000001", t(4, 10), t(4, 9, 30), service="search"),
    dep("s2", "5000002", t(12, 10), t(12, 9, 30), service="search"),
]


def test_fewer_than_five_deployments_get_no_level() -> None:
    h = build_histories(SEARCH, [], CONFIG)[("search", "production")]
    card = scorecard([h], SINCE, UNTIL, BERLIN, CONFIG, "search/production")
    reason = "only 2 deployment(s) in the window; a level needs at least 5"
    assert {(f.level, f.no_level_reason) for f in card.figures} == {(None, reason)}
    assert card.figure(Metric.LEAD_TIME).value == 1800.0  # still computed, with n = 2
    assert card.figure(Metric.LEAD_TIME).n == 2


def test_rollups_pool_events_per_team_and_organisation() -> None:
    histories = build_histories([*DEPLOYMENTS, *SEARCH], INCIDENTS, CONFIG)
    cards = rollups(histories, {"shop": ["checkout", "search"], "empty": ["nothing"]},
                    SINCE, UNTIL, BERLIN, CONFIG, card=scorecard)  # fmt: skip
    assert [c.scope for c in cards] == [
        "checkout/production", "search/production", "team shop", "organisation"
    ]  # fmt: skip
    org = cards[-1]
    df = org.figure(Metric.DEPLOYMENT_FREQUENCY)
    assert df.n == 11 and df.details["per_day_per_service"] == pytest.approx(11 / 14 / 2)
    # Lead-time samples pooled: checkout's 10 plus 1800, 1800 -> n 12, sorted
    # 600 1800 1800 2100 3600x6 7200 7500: median position 5.5 -> 3600;
    # p90 position 9.9 -> 3600 + 0.9 * (7200 - 3600) = 6840.
    lt = org.figure(Metric.LEAD_TIME)
    assert (lt.n, lt.value, lt.p90) == (12, 3600.0, pytest.approx(6840.0))
    assert org.figure(Metric.CHANGE_FAILURE_RATE).value == pytest.approx(3 / 10)
    assert cards[2].figures == org.figures  # the team holds both services


def test_manual_links_override_attribution() -> None:
    d6 = next(d for d in DEPLOYMENTS if d.version == "v1.4-hotfix1")
    links = {"I2": d6.key, "I5": None}
    h = build_histories(DEPLOYMENTS, INCIDENTS, CONFIG, links)[("checkout", "production")]
    reasons = {x.incident.id: (x.reason, x.detail) for x in h.incidents}
    assert reasons["I2"] == (Attribution.MANUAL, "manually linked")
    assert reasons["I5"] == (Attribution.UNATTRIBUTED, "manually unlinked")
    failed = [f.deployment.version for f in h.deployments if f.failed]
    assert failed == ["v1.3", "v1.4", "v1.4-hotfix1"]  # D7 no longer failed, D6 now is


def test_in_effect_weak_beyond_one_hour() -> None:
    deployments = [dep("v1", "1000001", t(2, 10), t(2, 9))]
    incident = inc("X", t(2, 15), t(2, 15, 30), "Crash")
    (h,) = build_histories(deployments, [incident], CONFIG).values()
    assert h.incidents[0].reason == Attribution.WEAK
    assert h.incidents[0].detail == "v1 in effect, deployed 5 h before"
    assert h.deployments[0].recovered_at == t(2, 15, 30)  # 5.5 h after the deployment


def test_open_failure_is_listed_with_its_age_not_imputed() -> None:
    deployments = [dep("v1", "1000001", t(2, 10), t(2, 9))]
    incident = inc("X", t(2, 10, 30), None, "Crash")
    (h,) = build_histories(deployments, [incident], CONFIG).values()
    card = scorecard([h], SINCE, UNTIL, BERLIN, CONFIG, "x")
    assert card.figure(Metric.RECOVERY_TIME).n == 0
    # 03-02 10:00 -> 03-16 00:00 = 13 days 14 hours.
    assert card.open_failures == ((str(h.deployments[0].deployment.key), (13 * 24 + 14) * 3600.0),)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        pytest.param([], 0.5, None, id="empty"),
        pytest.param([5.0], 0.9, 5.0, id="single"),
        pytest.param([1.0, 2.0, 3.0, 4.0], 0.5, 2.5, id="even-median-interpolated"),
        pytest.param([10.0, 0.0, 20.0], 0.9, 18.0, id="p90-unsorted"),
    ],
)
def test_percentile_cont(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_window_boundaries_are_half_open() -> None:
    deployments = [dep("v1", "1000001", UNTIL, UNTIL - timedelta(hours=1))]
    (h,) = build_histories(deployments, [], CONFIG).values()
    card = scorecard([h], SINCE, UNTIL, BERLIN, CONFIG, "x")
    assert card.figure(Metric.DEPLOYMENT_FREQUENCY).n == 0  # finished at ``until``: next window


def test_rollback_over_two_versions_fails_the_first_and_strengthens_attribution() -> None:
    # V1 -> V2 -> V3 -> V1: V2 is the change failure (Datadog rule); V3 was rolled back too, so
    # an incident 5 h after V3 (beyond the 1 h strong window) is still in_effect_strong.
    deployments = [
        dep("V1", "1000001", t(2, 9), t(2, 8)),
        dep("V2", "2000002", t(2, 10), t(2, 9)),
        dep("V3", "3000003", t(2, 11), t(2, 10)),
        dep("V1", "1000001", t(2, 17), t(2, 8)),
    ]
    incident = inc("X", t(2, 16), t(2, 16, 30), "Crash")
    (h,) = build_histories(deployments, [incident], CONFIG).values()
    assert [(f.deployment.version, f.failed_by) for f in h.deployments] == [
        ("V1", []), ("V2", ["rollback"]), ("V3", ["in_effect_strong"]), ("V1", []),
    ]  # fmt: skip
    assert [f.rolled_back for f in h.deployments] == [False, True, True, False]
    # V2 recovered by the rollback at 17:00 (no alert in the 15 min after it): 7 h.
    assert h.deployments[1].recovered_at == t(2, 17)
    assert h.deployments[1].recovered_by == "rollback V1"


def test_deploy_failure_rate_is_apart_from_cfr(card: Scorecard) -> None:
    # 1 failed attempt (v1.7 on 03-12) out of 1 + 9 attempts.
    assert card.deploy_failure_rate == pytest.approx(0.1)
