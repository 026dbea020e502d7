"""Known values for every table of the store, for round-trip and upgrade tests.

``tests/fixtures/store/baseline.sqlite.sql`` and ``baseline.postgresql.sql`` are dumps of a store
that sloctl wrote with these values before the store had migrations (commit 91af14d, the schema
of migration 0001); the upgrade test loads a dump, runs ``sloctl db upgrade`` and reads these
values back through today's API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.exemplars import Exemplars, TraceLink
from sloctl.core.signals import Signal
from sloctl.core.trace_compare import Disagreement
from sloctl.dora.compute import Figure, Goal, Scorecard
from sloctl.dora.levels import Level, Metric
from sloctl.dora.model import Commit, Deployment, DeploymentKey, DeployStatus
from sloctl.store.incidents import Notification, ReceivedAlert
from tests.support.evaluations import T0, alert, evaluation, signals, slo, unknown_slo

DOWN = "prometheus: connection refused at 127.0.0.1:9090"
MINUTE = timedelta(minutes=1)
PAGE = "burn_rate:page/checkout/availability"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # when the DORA data was recorded
SINCE = NOW - timedelta(days=30)


def full_evaluation(at: datetime, page: AlertState = AlertState.FIRING) -> Evaluation:
    """Known and unknown SLOs and signals, alerts and a problem."""
    return evaluation(
        at,
        [slo("checkout", "availability", at, bad=400.0),
         unknown_slo("search", "latency", at, DOWN)],
        [
            *signals("checkout", {Signal.TRAFFIC: 12.5, Signal.ERROR_RATIO: 0.0004,
                                  Signal.LATENCY_P95: 0.21, Signal.SATURATION: 0.7}),
            *signals("search", {Signal.TRAFFIC: None, Signal.LATENCY_P99: None}, DOWN),
        ],
        [
            alert(PAGE, page, at, since=T0 - MINUTE),
            alert("error_ratio/search", AlertState.INACTIVE, at, value=None, reason=DOWN),
        ],
        problems=(DOWN,),
    )


def evaluations() -> list[Evaluation]:
    """Two cycles: the page alert goes pending -> firing (two transitions)."""
    return [full_evaluation(T0, AlertState.PENDING), full_evaluation(T0 + MINUTE)]


def deployments() -> list[Deployment]:
    return [
        Deployment("checkout", "production", "v1", "abcdef1", NOW - timedelta(days=2),
                   DeployStatus.SUCCESS, commit_time=NOW - timedelta(days=2, hours=3),
                   started=NOW - timedelta(days=2, minutes=5),
                   commits=(Commit("1234567", NOW - timedelta(days=2, hours=5)),
                            Commit("abcdef1", NOW - timedelta(days=2, hours=3))),
                   ref="main"),
        Deployment("checkout", "production", "v2", "bcdef12", NOW - timedelta(days=1),
                   DeployStatus.FAILURE, ref="hotfix/timeout"),
    ]


LINKED = ("incident-linked", DeploymentKey("checkout", "production", "v1", NOW - timedelta(days=2)))
UNLINKED = "incident-unlinked"


def figures(scale: float = 1.0) -> tuple[Figure, ...]:
    """The six figures, with every field of a figure set somewhere (or unknown)."""
    return (
        Figure(Metric.DEPLOYMENT_FREQUENCY, 0.5 * scale, "deployments/day", 2, 2023,
               level=Level.MEDIUM, details={"per_week": {"2026-W47": 2}}),
        Figure(Metric.LEAD_TIME, 10800.0 * scale, "seconds", 2, 2023, level=Level.HIGH,
               p90=17280.0, goal=Goal("< 1 d", True), previous=14400.0,
               notes=("one deployment without commits",),
               details={"commits_without_time": 0, "by_service": {"checkout": [10800.0]}}),
        Figure(Metric.CHANGE_FAILURE_RATE, 0.5, "ratio", 2, 2023,
               no_level_reason="fewer than 5 deployments", numerator=1, denominator=2,
               goal=Goal("< 15 %", False), lower_bound=True),
        Figure(Metric.RECOVERY_TIME, None, "seconds", 0, 2023, goal=Goal("< 1 h", None),
               no_level_reason="no recovered failures"),
        Figure(Metric.TIME_TO_RESTORE, 3600.0, "seconds", 1, 2024, level=Level.ELITE,
               previous=7200.0),
        Figure(Metric.REWORK_RATE, 0.5, "ratio", 2, 2024, numerator=1, denominator=2,
               details={"rework_by": {"hotfix": 1}}),
    )


def scorecards() -> list[Scorecard]:
    """A service/environment and the organisation."""
    service = Scorecard(
        "checkout/production", SINCE, NOW, ("checkout",), figures(), redeploys=1,
        failed_attempts=1, duplicates=0, data_quality={"no_commit_time": 1},
        open_failures=(("checkout/production/v2", 86400.0),),
    )
    organisation = Scorecard("organisation", SINCE, NOW, ("checkout", "search"), figures(2.0),
                             0, 0, 2, {}, ())
    return [service, organisation]


def trace_findings_values() -> tuple[datetime, tuple[tuple[str, str, Exemplars], ...],
                                     tuple[Disagreement, ...], tuple[str, ...]]:
    """(at, exemplar records (key, kind, exemplars), disagreements, problems)."""
    link = TraceLink("4bf92f3577b34da6a3ce929d0e0e4736", "checkout", "POST /orders",
                     "2025-03-01T11:58:00Z", 1.25, 12, 1, "http://127.0.0.1:16686/trace/4bf9")
    exemplars = Exemplars("checkout", "2025-03-01T11:55:00Z", "2025-03-01T12:00:00Z",
                          (link,), ())
    disagreement = Disagreement("checkout", Signal.TRAFFIC, 12.5, 3.1,
                                "span rate 25 % of the HTTP rate: head sampling?")
    return (T0, ((PAGE, "alert", exemplars),), (disagreement,), ("jaeger slow: 2 s",))


def notifications() -> list[Notification]:
    """A firing body, then its resolution, then a body in which Alertmanager dropped alerts."""
    labels = {"alertname": "ServiceErrorRatioHigh", "service": "checkout", "severity": "page",
              "env": "production"}
    firing = ReceivedAlert("ebb1fe80b92a0f50", "firing", NOW - timedelta(hours=3), None, labels,
                           {"summary": "checkout: 2 % errors"}, "http://127.0.0.1:9090/graph")
    resolved = ReceivedAlert("ebb1fe80b92a0f50", "resolved", firing.starts_at,
                             NOW - timedelta(hours=2), labels, {"summary": "checkout: ok"},
                             firing.generator_url)
    group = {"alertname": "ServiceErrorRatioHigh"}
    key = '{}:{alertname="ServiceErrorRatioHigh"}'
    return [
        Notification("sloctl", "firing", key, (firing,), group, "http://127.0.0.1:9093"),
        Notification("sloctl", "resolved", key, (resolved,), group, "http://127.0.0.1:9093"),
        Notification("sloctl", "firing", key, (), group, "http://127.0.0.1:9093",
                     truncated_alerts=3),
    ]


def received_at(index: int) -> datetime:
    """When the notification at ``index`` of ``notifications()`` was received."""
    return NOW - timedelta(hours=3) + index * timedelta(minutes=30)
