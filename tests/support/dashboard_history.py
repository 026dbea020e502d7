"""A known stored history of the demo shop for the app's tests, written with the store's public
API and the report's pure build (``fill(url)``).

Services order, inventory, payment (team ``shop``) and notification, user (team ``platform``),
each with an availability SLO (99.5 %) and a latency SLO (95 %) over 28 days, as the demo's
specs; the demo's deployments (``shop_history(NOW)``) and its order incident.

Now (the last evaluation, ``NOW``): payment/availability 6,000 bad of 1e6 (SLI 99.4 %, budget
left -20 %, breaching, page alert firing); inventory/latency 40,000 of 1e6 (budget left 20 %)
with its p95 alert firing; payment's error ratio alert firing; notification/latency unknown
(Prometheus down); everything else healthy. 72 hourly evaluations before it.

Weekly scorecards for ``WEEK`` (2026-W47) and ``PREVIOUS`` (2026-W46), 12 weeks of history
each, events per week: order 4e6, inventory 6e6, payment 2e6, notification 1.5e6, user 5e6.
Availability bad events per week: 0.1 % of every service, payment 0.15 % (3,000); in ``WEEK``
payment 9,000 (0.45 %) and order 22,000 (0.55 %: burned 1.10x, WARNING). Latency: 1 % slow,
inventory 4 % in ``WEEK``. One incident in ``WEEK``: payment 2026-11-19 10:30-10:50
(critical), in the alert log too, with exemplar traces. The rolling DORA scorecards are the
demo's known values (``tests.unit.test_dora_job.known_dora``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.exemplars import Exemplars, TraceLink
from sloctl.core.signals import Signal
from sloctl.demo.deployments import record_history, shop_history
from sloctl.dora.compute import rollups, scorecard
from sloctl.dora.history import build_histories
from sloctl.dora.model import DoraConfig, DoraIncident
from sloctl.report import codec
from sloctl.report.build import build_all
from sloctl.report.inputs import (
    FailedDeployment,
    IncidentFigure,
    PeriodFigures,
    ReportInputs,
    SignalFigure,
    SloFigures,
    Thresholds,
)
from sloctl.report.period import Period, iso_week
from sloctl.store import Store
from sloctl.store.canary import JudgementRecord
from sloctl.store.incidents import Notification, ReceivedAlert
from sloctl.store.reports import SendClaim
from sloctl.store.traces import ExemplarRecord, TraceFindings
from tests.support.evaluations import alert, evaluation, signals, slo, unknown_slo
from tests.unit.test_dora_job import END, known_dora

NOW = END  # 2026-11-27 10:00 UTC: the demo's DORA values hold here
WEEK, PREVIOUS = "2026-W47", "2026-W46"
DOWN = "prometheus: connection refused (127.0.0.1:9090)"
TEAMS = {"shop": ("order", "inventory", "payment"), "platform": ("notification", "user")}
SERVICES = ("inventory", "notification", "order", "payment", "user")
EVENTS = {"order": 4e6, "inventory": 6e6, "payment": 2e6, "notification": 1.5e6, "user": 5e6}
P95 = {"order": 0.14, "inventory": 0.15, "payment": 0.16, "notification": 0.12, "user": 0.12}
INCIDENT_START = datetime(2026, 11, 19, 10, 30, tzinfo=UTC)
INCIDENT_END = INCIDENT_START + timedelta(minutes=20)
TRACE_URL = "http://127.0.0.1:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736"


def team_of(service: str) -> str:
    return next(team for team, members in TEAMS.items() if service in members)


# -- now: evaluations -----------------------------------------------------------------------------

NOW_BAD = {  # (service, SLO) -> bad of 1e6 in the 28-day window; short windows: the same ratio
    ("order", "availability"): 2_500.0, ("inventory", "availability"): 1_000.0,
    ("payment", "availability"): 6_000.0, ("notification", "availability"): 1_000.0,
    ("user", "availability"): 1_000.0, ("order", "latency"): 10_000.0,
    ("inventory", "latency"): 40_000.0, ("payment", "latency"): 10_000.0,
    ("user", "latency"): 10_000.0,
}
NOW_SIGNALS = {  # traffic, error ratio, p50, p95, p99, saturation
    "order": (40.0, 0.001, 0.05, 0.14, 0.3, 1.2),
    "inventory": (60.0, 0.001, 0.1, 0.45, 0.9, 1.5),
    "payment": (20.0, 0.012, 0.06, 0.16, 0.35, 0.8),
    "notification": (15.0, 0.001, 0.04, 0.12, 0.25, 0.3),
    "user": (50.0, 0.001, 0.04, 0.12, 0.25, 0.9),
}
OBJECTIVES = {"availability": 0.995, "latency": 0.95}


def _evaluation(at: datetime, hours_ago: int) -> Evaluation:
    slos = []
    for service in ("order", "inventory", "payment", "notification", "user"):
        for name in ("availability", "latency"):
            if (service, name) == ("notification", "latency"):
                slos.append(unknown_slo(service, name, at, DOWN))
                continue
            bad = NOW_BAD[(service, name)] - 10.0 * hours_ago
            slos.append(slo(service, name, at, objective=OBJECTIVES[name], bad=bad))
    values = [v for s, figures in NOW_SIGNALS.items()
              for v in signals(s, dict(zip(Signal, (figures[0] + hours_ago % 5, *figures[1:]),
                                           strict=True)))]
    firing = [
        alert("burn_rate:page/payment/availability", AlertState.FIRING, at, service="payment",
              slo_id="payment/availability", value=2.4, since=at - timedelta(hours=3)),
        alert("default:error_ratio/payment", AlertState.FIRING, at, service="payment",
              slo_id=None, value=0.012, since=at - timedelta(hours=2)),
        alert("default:latency_p95/inventory", AlertState.FIRING, at, service="inventory",
              slo_id=None, value=0.45, since=at - timedelta(hours=1)),
        alert("burn_rate:page/order/availability", AlertState.INACTIVE, at, service="order",
              slo_id="order/availability", value=0.5),
    ]
    return evaluation(at, slos, values, firing, problems=(DOWN,))


def evaluations() -> list[Evaluation]:
    """72 hourly evaluations, then the known one at NOW (oldest first)."""
    return [_evaluation(NOW - timedelta(hours=h), h) for h in range(72, -1, -1)]


# -- the weekly report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekBad:
    availability: dict[str, float]
    latency: dict[str, float]


def week_bad(key: str) -> WeekBad:
    """Bad events of one week (see the module docstring)."""
    availability = {s: EVENTS[s] * 0.001 for s in EVENTS} | {"payment": 3_000.0}
    latency = {s: EVENTS[s] * 0.01 for s in EVENTS}
    if key == WEEK:
        availability |= {"payment": 9_000.0, "order": 22_000.0}
        latency |= {"inventory": 240_000.0}
    return WeekBad(availability, latency)


def _slo_figures(weeks: list[Period], index: int) -> tuple[SloFigures, ...]:
    """Every SLO of ``weeks[index]``; budget left over the 4 weeks of its 28-day window."""
    period = weeks[index]
    window = weeks[max(0, index - 3) : index + 1]
    out = []
    for service in ("order", "inventory", "payment", "notification", "user"):
        for kind, objective in OBJECTIVES.items():
            total = EVENTS[service]
            bad = getattr(week_bad(period.key), kind)[service]
            budget = total * (1 - objective)
            spent_window = sum(getattr(week_bad(w.key), kind)[service] for w in window)
            out.append(SloFigures(
                slo_id=f"{service}/{kind}", service=service, name=kind, objective=objective,
                window="28d", team=team_of(service), tier=None, total=total, bad=bad,
                sli=1 - bad / total, burn_rate=(bad / total) / (1 - objective),
                budget_spent=bad / (budget * 4),
                budget_left=1 - spent_window / (budget * 4), kind=kind,
            ))
    return tuple(out)


def _signal_figures(key: str) -> tuple[SignalFigure, ...]:
    out = []
    for service in EVENTS:
        bad = week_bad(key).availability[service]
        p95 = 0.32 if (service, key) == ("inventory", WEEK) else P95[service]
        out += [SignalFigure(service, "traffic", EVENTS[service] / (7 * 86400)),
                SignalFigure(service, "error_ratio", bad / EVENTS[service]),
                SignalFigure(service, "latency_p95", p95),
                SignalFigure(service, "latency_p99", 2 * p95)]
    return tuple(out)


def week_incident() -> DoraIncident:
    return DoraIncident(
        id=f"payment@{INCIDENT_START.isoformat().replace('+00:00', 'Z')}", service="payment",
        environment="production", start=INCIDENT_START, end=INCIDENT_END, severity="critical",
        labels={"alertname": "PaymentHighErrorRate", "service": "payment",
                "severity": "critical"})


def report_inputs(key: str) -> ReportInputs:
    """The stored inputs of week ``key``: 12 weeks of figures, DORA from the demo's history."""
    period = iso_week(key, UTC, "UTC")
    weeks = [period.previous(k, UTC) for k in range(11, 0, -1)] + [period]
    history = tuple(PeriodFigures(w, _slo_figures(weeks, i), _signal_figures(w.key))
                    for i, w in enumerate(weeks))
    demo = shop_history(NOW)
    config = DoraConfig()
    histories = build_histories(demo.deployments, (*demo.incidents, week_incident()), config)
    dora_week = {c.scope: c for c in rollups(histories, TEAMS, period.start, period.end, UTC,
                                              config)}
    trailing = {c.scope: c for c in rollups(histories, TEAMS, weeks[0].start, period.end, UTC,
                                             config, card=scorecard)}
    weekly: dict[str, list[tuple[str, float | None]]] = {}
    for w in weeks:
        for c in rollups(histories, TEAMS, w.start, w.end, UTC, config, card=scorecard):
            for f in c.figures:
                value = f.value
                if f.metric.value == "deployment_frequency":
                    per = f.details.get("per_day_per_service")
                    value = float(per) if isinstance(per, int | float) else None
                weekly.setdefault(f"{f.metric.value} {c.scope}", []).append((w.key, value))
    links = [ln for h in histories.values() for ln in h.incidents
             if ln.incident.start < period.end
             and (ln.incident.end is None or ln.incident.end >= period.start)]
    facts = [f for h in histories.values() for f in h.deployments
             if f.failed and period.start <= f.finished < period.end]
    return ReportInputs(
        period=period, measured_at=period.end + timedelta(hours=8), history=history,
        dora_week=dora_week, dora_trailing=trailing,
        dora_weekly={k: tuple(v) for k, v in weekly.items()},
        incidents=tuple(IncidentFigure.of(ln) for ln in links),
        last_incident_before={},
        failed_deployments=tuple(FailedDeployment.of(f) for f in facts),
        teams=TEAMS, thresholds=Thresholds(), incident_history_since=weeks[0].start,
    )


def store_week(store: Store, key: str) -> None:
    """A week's inputs and every scope's scorecard, as ``sloctl.report.weekly.publish`` does."""
    inputs = report_inputs(key)
    store.reports.save_inputs(key, inputs.period.start, inputs.period.end, inputs.measured_at,
                              codec.encode(inputs))
    for scope, card in build_all(inputs, UTC).items():
        store.reports.save_scorecard(key, scope, inputs.measured_at, codec.encode(card))


# -- alert log, canary, traces, emails ------------------------------------------------------------


def record_incident(store: Store) -> None:
    """The week's payment incident as Alertmanager notified it, and its exemplar traces."""
    received = ReceivedAlert("pay0001", "resolved", INCIDENT_START, INCIDENT_END,
                             dict(week_incident().labels),
                             {"summary": "payment: 1.2 % of requests fail"})
    store.alerts.record(Notification("sloctl", "resolved", "{}:payment", (received,)),
                        INCIDENT_END)
    link = TraceLink("4bf92f3577b34da6a3ce929d0e0e4736", "payment", "POST /charge",
                     INCIDENT_START.isoformat(), 2.5, 14, 3, TRACE_URL)
    found = Exemplars("payment", INCIDENT_START.isoformat(), INCIDENT_END.isoformat(), (),
                      (link,))
    store.traces.save(TraceFindings(INCIDENT_END, (ExemplarRecord(
        "payment/availability", "slo", found),)), INCIDENT_END)


def record_canary(store: Store) -> None:
    """A failed judgement of order's bad release and a passed one of the release before it."""
    orders = [d for d in shop_history(NOW).deployments if d.service == "order"]
    incident_start = shop_history(NOW).incidents[0].start
    bad = max((d for d in orders if d.finished <= incident_start), key=lambda d: d.finished)
    good = max((d for d in orders if d.finished < bad.finished), key=lambda d: d.finished)
    for d, verdict in ((good, "pass"), (bad, "fail")):
        at = d.finished + timedelta(minutes=10)
        store.canary.save(JudgementRecord(
            at, "order", verdict, f'order{{version="{d.version}"}}', 'order{version="stable"}',
            600, "cli", at, d.version, "production"))


def record_email(store: Store) -> None:
    """The organisation's email of WEEK, sent."""
    claim = SendClaim("k-org", WEEK, "organisation", ("cto@shop.example",), "<m1@sloctl>")
    sent_at = datetime(2026, 11, 23, 8, 0, 5, tzinfo=UTC)
    store.reports.claim(claim, sent_at - timedelta(seconds=5))
    record = store.reports.begin("k-org", sent_at, timedelta(minutes=5))
    assert record is not None
    store.reports.sent("k-org", record.attempts, sent_at)


def fill(url: str) -> None:
    """The whole known history (see the module docstring)."""
    with Store(url) as store:
        store.evaluations.save_many(evaluations())
        record_history(store, shop_history(NOW), NOW)
        record_incident(store)
        record_canary(store)
        for key in (PREVIOUS, WEEK):
            store_week(store, key)
        cards = known_dora()
        store.scorecards.save([c.card for c in cards], cards[0].computed_at)
        record_email(store)


def fill_evaluations(url: str) -> None:
    """Only the evaluations (a store without weekly scorecards, deployments or alerts)."""
    with Store(url) as store:
        store.evaluations.save_many(evaluations())
