"""A failed canary judgement followed by a rollback is the judged deployment's failure in DORA.

Service shop/production, March 2026 (UTC), every figure worked out by hand:

  D1  v1  s1  03-02 10:00
  D2  v2  s2  03-03 10:00   incident I1 (version=v2, exact) 03-03 11:00-11:30: failed
  D3  v3  s3  03-04 10:00   canary judged fail at 10:10
  D4  v1  s1  03-04 10:30   rollback to D1's commit
  D5  v4  s4  03-05 10:00   canary judged fail at 10:05, but promoted: no rollback follows
  D6  v5  s5  03-06 10:00   canary judged pass
  D7  v6  s6  03-07 10:00

Counted deployments 7, of which 1 rollback (D4): CFR's denominator is 6.
Without judgements, E7 (ii) fails the first deployment after the rollback's target (D2, which
its incident fails anyway): 1 failed, CFR 1/6. With them, D4 undoes D3, whose canary failed:
D2 (incident) and D3 (canary) failed, CFR 2/6 = 1/3; D3 recovers at the rollback (30 min).
D5's failed canary is not followed by a rollback: not a failure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sloctl.dora.compute import scorecard
from sloctl.dora.history import build_histories
from sloctl.dora.levels import Metric
from sloctl.dora.model import CanaryJudgement, Deployment, DoraConfig, DoraIncident

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 8, tzinfo=UTC)


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


DEPLOYMENTS = [
    Deployment("shop", "production", version, sha, at)
    for version, sha, at in [
        ("v1", "s1", t(2, 10)), ("v2", "s2", t(3, 10)), ("v3", "s3", t(4, 10)),
        ("v1", "s1", t(4, 10, 30)), ("v4", "s4", t(5, 10)), ("v5", "s5", t(6, 10)),
        ("v6", "s6", t(7, 10)),
    ]
]
INCIDENTS = [DoraIncident("i1", "shop", "production", t(3, 11), t(3, 11, 30), "critical",
                          {"alertname": "HighErrorRate", "version": "v2"})]
JUDGEMENTS = [
    CanaryJudgement("shop", "v3", t(4, 10, 10), "fail", "production"),
    CanaryJudgement("shop", "v4", t(5, 10, 5), "fail"),
    CanaryJudgement("shop", "v5", t(6, 10, 5), "pass"),
]


def card(judgements: list[CanaryJudgement]):  # type: ignore[no-untyped-def]
    histories = build_histories(DEPLOYMENTS, INCIDENTS, DoraConfig(), judgements=judgements)
    return histories, scorecard(list(histories.values()), SINCE, UNTIL, ZoneInfo("UTC"),
                                DoraConfig(), "shop/production")


def failed(histories) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    (history,) = histories.values()
    return {f.deployment.version: f.failed_by for f in history.deployments if f.failed}


def test_without_judgements_the_rollback_fails_the_first_deployment_after_its_target() -> None:
    histories, sc = card([])
    assert failed(histories) == {"v2": ["rollback", "exact"]}
    cfr = sc.figure(Metric.CHANGE_FAILURE_RATE)
    assert (cfr.numerator, cfr.denominator) == (1, 6)


def test_a_failed_canary_then_a_rollback_fails_the_judged_deployment() -> None:
    histories, sc = card(JUDGEMENTS)
    assert failed(histories) == {"v2": ["exact"], "v3": ["canary"]}
    cfr = sc.figure(Metric.CHANGE_FAILURE_RATE)
    assert (cfr.numerator, cfr.denominator, cfr.value) == (2, 6, pytest.approx(1 / 3))
    assert cfr.details["failed_by"] == {"canary": 1, "exact": 1}
    (history,) = histories.values()
    v3 = next(f for f in history.deployments if f.deployment.version == "v3")
    assert (v3.recovered_at, v3.recovered_by) == (t(4, 10, 30), "rollback v1")


@pytest.mark.parametrize(
    "judgement",
    [
        CanaryJudgement("shop", "v3", t(4, 10, 40), "fail"),  # after the rollback
        CanaryJudgement("shop", "v3", t(4, 10, 10), "fail", "staging"),  # another environment
        CanaryJudgement("shop", "v3", t(4, 10, 10), "inconclusive"),
        CanaryJudgement("cart", "v3", t(4, 10, 10), "fail"),  # another service
    ],
    ids=["after-the-rollback", "other-environment", "inconclusive", "other-service"],
)
def test_judgements_that_do_not_concern_the_rollback_change_nothing(
    judgement: CanaryJudgement,
) -> None:
    histories, sc = card([judgement])
    assert failed(histories) == {"v2": ["rollback", "exact"]}
    assert sc.figure(Metric.CHANGE_FAILURE_RATE).numerator == 1


def test_a_judgement_names_the_deployment_by_its_sha_too() -> None:
    histories, _ = card([CanaryJudgement("shop", "s3", t(4, 10, 10), "fail")])
    assert failed(histories)["v3"] == ["canary"]


def test_sloctl_dora_counts_a_stored_failed_canary_followed_by_a_rollback(tmp_path: Path) -> None:
    """v1, v2 (canary judged fail 10 minutes later), v1 again: CFR 1 of 2 (the rollback is
    left out), failed by its canary."""
    import json
    from datetime import timedelta

    from typer.testing import CliRunner

    from sloctl.cli.main import app
    from sloctl.store import Store
    from sloctl.store.canary import JudgementRecord

    url = f"sqlite:///{tmp_path / 's.db'}"
    day = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    with Store(url) as store:
        for version, sha, minutes in (("v1", "s1", 0), ("v2", "s2", 60), ("v1", "s1", 90)):
            at = day + timedelta(minutes=minutes)
            store.deployments.record(Deployment("shop", "production", version, sha, at), "cli", at)
        at = day + timedelta(minutes=70)
        store.canary.save(JudgementRecord(at, "shop", "fail", 'shop{version="v2"}',
                                          'shop{version="v1"}', 600, "cli", at, "v2"))
    result = CliRunner().invoke(app, ["dora", "--service", "shop", "-o", "json"],
                                env={"SLOCTL_STORE_URL": url})
    assert result.exit_code == 0, result.output
    (card,) = json.loads(result.stdout)
    cfr = card["metrics"]["change_failure_rate"]
    assert (cfr["numerator"], cfr["denominator"]) == (1, 2)
    assert cfr["details"]["failed_by"] == {"canary": 1}


def test_the_weekly_report_counts_a_stored_failed_canary_followed_by_a_rollback(
    tmp_path: Path,
) -> None:
    """The week's scorecard as the email and the app show it: the same deployments and
    judgement as above, measured for the ISO week that holds them (no SLO, so no query)."""
    from datetime import timedelta

    from sloctl.report.measure import measure_inputs
    from sloctl.report.period import range_period
    from sloctl.settings import load_settings
    from sloctl.store import Store
    from sloctl.store.canary import JudgementRecord

    day = datetime(2026, 3, 4, 9, tzinfo=UTC)
    settings = load_settings(None, {"SLOCTL_PROMETHEUS_URL": "http://127.0.0.1:9"})
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        for version, sha, minutes in (("v1", "s1", 0), ("v2", "s2", 60), ("v1", "s1", 90)):
            at = day + timedelta(minutes=minutes)
            store.deployments.record(Deployment("shop", "production", version, sha, at), "cli", at)
        at = day + timedelta(minutes=70)
        store.canary.save(JudgementRecord(at, "shop", "fail", 'shop{version="v2"}',
                                          'shop{version="v1"}', 600, "cli", at, "v2"))
        inputs = measure_inputs(range_period(SINCE, UNTIL), settings, [], store,
                                None, UNTIL)  # type: ignore[arg-type]  # never queried
    cfr = inputs.dora_week["organisation"].figure(Metric.CHANGE_FAILURE_RATE)
    assert (cfr.numerator, cfr.denominator) == (1, 2)
    assert cfr.details["failed_by"] == {"canary": 1}
    assert [(f.version, f.reasons) for f in inputs.failed_deployments] == [("v2", ("canary",))]
