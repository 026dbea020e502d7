"""The pure assemble step: query results in; SLO statuses, signals, alerts and problems out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sloctl.core import alert_rules
from sloctl.core.alert_eval import SloAlerting, ThresholdRule
from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.samples import Sample
from sloctl.core.signals import Signal
from sloctl.core.windows import DataState
from sloctl.errors import BackendQueryError, BackendUnreachable
from sloctl.evaluation.assemble import (
    AlertConfig,
    Assembled,
    Outcome,
    assemble,
    bucket_fallbacks,
)
from sloctl.evaluation.plan import CyclePlan, Query, plan_cycle
from sloctl.settings import Settings
from sloctl.spec.models import SLOSpec, Window
from sloctl.spec.presets import PRESETS

AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
OTEL = PRESETS["otel-http"]
LEGACY = PRESETS["otel-http-legacy"]
ERRORS = ThresholdRule(alert_rules.ERROR_RATIO, 0.005, 300, 300, min_coverage=0.9)
CONFIG = AlertConfig(threshold_rules=(ERRORS,), min_short_coverage=0.9)


def spec(service: str, name: str, indicator: object, objective: float = 99.0) -> SLOSpec:
    return SLOSpec(service, name, objective, Window(28 * 86400), "service_name",
                   indicator)  # type: ignore[arg-type]


def rows(**values: float) -> list[Sample]:
    """One row per service: ``rows(order=5.0)``."""
    return [Sample({"service_name": s}, v) for s, v in values.items()]


def coverage_rows(service: str, steps: dict[int, float]) -> list[Sample]:
    """The coverage query's answer: steps with data per window (100 steps is full)."""
    return [Sample({"service_name": service, "sloctl_window": str(w)}, n) for w, n in steps.items()]


def fill(plan: CyclePlan, total: dict[str, float], bad: dict[str, float],
         coverage: float = 100.0) -> dict[Query, Outcome]:
    """Answers for every ratio query of ``plan``: the same counts in every window."""
    raw: dict[Query, Outcome] = {}
    for p in plan.slos:
        for w in p.windows:
            if w.total:
                raw[w.total] = rows(**total)
            if w.bad:
                raw[w.bad] = rows(**bad)
        if p.coverage:
            raw[p.coverage] = [
                s for svc in total for s in coverage_rows(svc, dict.fromkeys(
                    (w.window for w in p.windows), coverage))
            ]
    for sq in (sq for groups in plan.signals.values() for sq in groups):
        raw[sq.total] = rows(**total)
        raw[sq.bad] = rows(**bad)
        raw[sq.buckets] = []
        raw[sq.saturation] = []
        raw[sq.coverage] = [s for svc in total for s in coverage_rows(svc, {sq.window: coverage})]
    return raw


def run(plan: CyclePlan, raw: dict[Query, Outcome],
        prev: dict[str, AlertStatus] | None = None, at: datetime = AT) -> Assembled:
    alerting = {p.spec.slo_id: SloAlerting(p.spec.service, p.spec.name) for p in plan.slos}
    return assemble(plan, raw, at=at, prev=prev or {}, config=CONFIG, alerting=alerting)


def test_ratio_slo_from_counts() -> None:
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT)
    out = run(plan, fill(plan, {"order": 1000.0, "cart": 10.0}, {"order": 5.0}))
    [status] = out.slos
    assert status.sli == pytest.approx(0.995, rel=1e-12)
    assert status.window(300) is not None and status.window(300).burn_rate == pytest.approx(0.5)
    assert all(w.coverage == 1.0 and w.state is DataState.OK for w in status.windows)
    assert out.problems == ()
    # the signals list every service the queries found, with their error ratio
    ratios = {v.service: v.value for v in out.signals if v.signal is Signal.ERROR_RATIO}
    assert ratios == {"order": 0.005, "cart": 0.0}


def test_no_series_is_no_data_never_a_fake_hundred_percent() -> None:
    plan = plan_cycle([spec("ghost", "availability", OTEL.availability())], Settings(), AT)
    out = run(plan, fill(plan, {"order": 1000.0}, {"order": 5.0}))
    [status] = out.slos
    assert status.no_data and status.sli is None and status.breaching is None
    assert all(w.state is DataState.NO_DATA for w in status.windows)
    blind = [p for p in out.problems if p.startswith("no data: ghost/availability: ")]
    assert len(blind) == 1
    assert 'http_server_request_duration_seconds_count{service_name="ghost"}' in blind[0]
    # ... and the golden signals of a service of the specs without series are blind too
    assert any(p.startswith("no data: signals of ghost: ") for p in out.problems)


def test_zero_traffic_is_no_traffic_not_no_data() -> None:
    plan = plan_cycle([spec("idle", "availability", OTEL.availability())], Settings(), AT)
    out = run(plan, fill(plan, {"idle": 0.0}, {}))
    [status] = out.slos
    assert not status.no_data and status.sli is None
    assert {w.state for w in status.windows} == {DataState.NO_TRAFFIC}
    assert out.problems == ()


def test_a_failed_query_is_a_problem_and_keeps_alert_states() -> None:
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT)
    raw = fill(plan, {"order": 1000.0}, {"order": 500.0})
    down = BackendUnreachable("prometheus", "cannot connect to http://127.0.0.1:1")
    raw = dict.fromkeys(raw, down)
    firing = _alert(alert_rules.BURN_RATE_PAGE, "order/availability", AlertState.FIRING)
    out = run(plan, raw, {firing.key: firing})
    [status] = out.slos
    assert {w.state for w in status.windows} == {DataState.FAILED}
    assert out.problems == ("prometheus: cannot connect to http://127.0.0.1:1",)
    assert out.unreachable
    page = next(a for a in out.alerts if a.key == firing.key)
    assert page.state is AlertState.FIRING and page.reason is not None


def test_burn_rate_page_fires_and_is_one_identity() -> None:
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT)
    # 50 % errors against a 1 % budget: burn 50 > 13.44 (28 d) in every window
    out = run(plan, fill(plan, {"order": 1000.0}, {"order": 500.0}))
    page = next(a for a in out.alerts if a.rule == "slo_burn_rate_page")
    assert page.state is AlertState.FIRING
    # the pair burning furthest above its factor is reported: 50 / 5.6 (6h/30m) > 50 / 13.44
    assert page.threshold == pytest.approx(5.6)
    assert (page.labels["long_window"], page.labels["short_window"]) == ("6h", "30m")
    assert alert_rules.identity_labels(page) == {
        "alertname": "SLOBurnRatePage",
        "service": "order",
        "severity": "page",
        "sloth_severity": "page",
        "slo": "availability",
        "sloth_id": "order-availability",
        "sloth_service": "order",
        "sloth_slo": "availability",
    }


def test_thin_coverage_holds_the_burn_rate_alert_back() -> None:
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT)
    out = run(plan, fill(plan, {"order": 1000.0}, {"order": 500.0}, coverage=20.0))
    page = next(a for a in out.alerts if a.rule == "slo_burn_rate_page")
    assert page.state is AlertState.INACTIVE
    assert page.reason is not None
    assert "held back: the 5m window has data for 20% of its length (minimum 90%)" in page.reason
    errors = next(a for a in out.alerts if a.rule == "error_ratio")
    assert errors.state is AlertState.INACTIVE and "held back" in (errors.reason or "")


def test_an_idle_service_resolves_its_default_alert_with_the_reason() -> None:
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT)
    firing = _alert(alert_rules.ERROR_RATIO, "order", AlertState.FIRING)
    out = run(plan, fill(plan, {"order": 0.0}, {}), {firing.key: firing})
    errors = next(a for a in out.alerts if a.key == firing.key)
    assert errors.state is AlertState.RESOLVED and errors.reason == "no traffic in 5m"


def test_a_vanished_service_resolves_when_the_backend_answered() -> None:
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT)
    gone = _alert(alert_rules.ERROR_RATIO, "gone", AlertState.FIRING)
    out = run(plan, fill(plan, {"order": 100.0}, {}), {gone.key: gone})
    state = next(a for a in out.alerts if a.key == gone.key)
    assert state.state is AlertState.RESOLVED
    assert state.reason == "no data for it this cycle: its service or SLO has no series"


def test_latency_threshold_between_bounds_asks_for_the_whole_histogram() -> None:
    plan = plan_cycle([spec("order", "latency", OTEL.latency(0.3))], Settings(), AT)
    first = plan.slos[0].windows[0]
    assert first.buckets is not None and first.all_buckets is not None
    # the threshold query returned only +Inf: 0.3 is not a bound of this histogram
    raw: dict[Query, Outcome] = {
        w.buckets: [Sample({"service_name": "order", "le": "+Inf"}, 100.0)]
        for w in plan.slos[0].windows if w.buckets
    }
    fallbacks = bucket_fallbacks(plan, raw)
    assert first.all_buckets in fallbacks and len(fallbacks) == len(plan.slos[0].windows)
    buckets = [("0.25", 60.0), ("0.5", 80.0), ("+Inf", 100.0)]
    for q in fallbacks:
        raw[q] = [Sample({"service_name": "order", "le": le}, v) for le, v in buckets]
    out = run(plan, raw)
    [status] = out.slos
    five = status.window(300)
    assert five is not None and five.interpolated
    # good = 60 + (80 - 60) * (0.3 - 0.25) / (0.5 - 0.25) = 64 of 100
    assert five.sli == pytest.approx(0.64, rel=1e-12)
    assert out.problems == (
        "note: order/latency: 0.3 is not a bucket bound of http_server_request_duration_seconds, "
        "so its SLI is interpolated between the bounds 0.25 and 0.5 (inexact) and Prometheus "
        "rules cannot read it; add a 0.3 bound (`sloctl validate --live` shows how)",
    )


@pytest.mark.parametrize("spelling", ["300", "300.0"])
def test_a_milliseconds_bound_is_exact_whatever_its_spelling(spelling: str) -> None:
    plan = plan_cycle([spec("order", "latency", LEGACY.latency(0.3))], Settings(), AT)
    raw: dict[Query, Outcome] = {
        w.buckets: [
            Sample({"service_name": "order", "le": spelling}, 97.0),
            Sample({"service_name": "order", "le": "+Inf"}, 100.0),
        ]
        for w in plan.slos[0].windows if w.buckets
    }
    assert bucket_fallbacks(plan, raw) == []
    [status] = run(plan, raw).slos
    assert status.sli == pytest.approx(0.97, rel=1e-12)
    assert not any(w.interpolated for w in status.windows)


def test_a_rejected_query_keeps_the_error_text() -> None:
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT)
    raw = fill(plan, {"order": 1000.0}, {"order": 5.0})
    bad_query = plan.slos[0].windows[0].bad
    assert bad_query is not None
    raw[bad_query] = BackendQueryError("prometheus", "HTTP 422 execution: boom", status=422)
    [status] = run(plan, raw).slos
    five = status.window(300)
    assert five is not None and five.state is DataState.FAILED
    assert five.reason == "prometheus: HTTP 422 execution: boom"


def _alert(defn: alert_rules.AlertDefinition, subject: str, state: AlertState) -> AlertStatus:
    at = AT - timedelta(minutes=10)
    return AlertStatus(
        key=alert_rules.alert_key(defn, subject), rule=defn.rule, service=subject.split("/")[0],
        slo_id=subject if "/" in subject else None, severity=defn.severity, state=state,
        value=None, threshold=0.005, active_since=at, fired_at=at, resolved_at=None,
        updated_at=at,
    )


def test_a_single_sample_is_not_no_data() -> None:
    """Scraped once so far: the coverage query sees the series, increase() has no answer."""
    plan = plan_cycle([spec("fresh", "availability", OTEL.availability())], Settings(), AT)
    raw = fill(plan, {"other": 10.0}, {}, coverage=100.0)
    p = plan.slos[0]
    assert p.coverage is not None
    raw[p.coverage] = coverage_rows("fresh", {w.window: 1.0 for w in p.windows})
    out = run(plan, raw)
    [status] = out.slos
    assert not status.no_data
    five = status.window(300)
    assert five is not None and five.state is DataState.NO_TRAFFIC
    assert five.reason == "a single sample in 5m: increase() needs two"
    assert not any(p.startswith("no data: fresh/availability") for p in out.problems)


def test_the_http_vs_span_metrics_check_is_part_of_the_cycle() -> None:
    """With the trace step on, the span-metrics queries join the cycle's batch and assemble
    compares them with the HTTP signals (5m): 300 requests (1/s), 10 % errors over HTTP; 150
    server spans (0.5/s: the tracers' head sampling?) with 20 % failed."""
    config = Settings.model_validate({"jaeger": {"enabled": True}})
    plan = plan_cycle([spec("checkout", "availability", OTEL.availability())], config, AT)
    assert len(plan.span_check) == 2 and set(plan.span_check) <= set(plan.queries())
    raw = fill(plan, {"checkout": 300.0}, {"checkout": 30.0})
    calls, failed = plan.span_check
    raw[calls], raw[failed] = rows(checkout=150.0), rows(checkout=30.0)
    out = run(plan, raw)
    assert out.span_check is not None and out.span_check.problems == ()
    rate, ratio = out.span_check.disagreements
    assert (rate.signal, rate.http, rate.spans) == (Signal.TRAFFIC, 1.0, 0.5)
    assert (ratio.signal, ratio.http, ratio.spans) == (Signal.ERROR_RATIO, 0.1, 0.2)
    # off by default, and never when the signals come from span metrics already
    assert plan_cycle([], Settings(), AT).span_check == ()
    spans = Settings.model_validate(
        {"jaeger": {"enabled": True}, "signals": {"preset": "spanmetrics"}}
    )
    assert plan_cycle([], spans, AT).span_check == ()


def test_maintenance_minutes_are_left_out_of_every_window_they_touch() -> None:
    """A 30-minute outage ending 10 minutes ago: windows of 30m and longer subtract its counts
    (queried over exactly the outage, ``@`` its end); 5m does not overlap it."""
    from sloctl.core.maintenance import Maintenance

    outage = Maintenance(AT - timedelta(minutes=40), AT - timedelta(minutes=10), "db upgrade")
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT,
                      maintenance=[outage])
    p = plan.slos[0]
    five, thirty = p.windows[0], p.windows[1]
    assert five.excluded == ()
    # the 30m window [AT-30m, AT] overlaps the outage from AT-30m to AT-10m: 20 minutes
    [x] = thirty.excluded
    assert (x.start, x.end) == (AT - timedelta(minutes=30), AT - timedelta(minutes=10))
    end = int(x.end.timestamp())
    assert x.queries.total is not None and f"[20m] @ {end}" in x.queries.total.text
    assert all(w.excluded for w in p.windows[1:])  # 30m .. 28d
    raw = fill(plan, {"order": 1000.0}, {"order": 100.0})
    for w in p.windows:
        for ex in w.excluded:
            assert ex.queries.total is not None and ex.queries.bad is not None
            raw[ex.queries.total] = rows(order=200.0)  # the outage: 200 requests, 90 failed
            raw[ex.queries.bad] = rows(order=90.0)
    out = run(plan, raw)
    [status] = out.slos
    five_r, thirty_r = status.window(300), status.window(1800)
    assert five_r is not None and (five_r.bad, five_r.total) == (100.0, 1000.0)
    assert thirty_r is not None and (thirty_r.bad, thirty_r.total) == (10.0, 800.0)
    assert thirty_r.sli == pytest.approx(1 - 10 / 800)
    [note] = [p for p in out.problems if p.startswith("note: order/availability: ")]
    assert note == (
        "note: order/availability: 30 min of maintenance left out of its 28d window "
        "(2026-11-20 13:20..13:50 UTC db upgrade)"
    )


def test_a_failed_exclusion_makes_the_window_unknown_not_wrong() -> None:
    from sloctl.core.maintenance import Maintenance

    outage = Maintenance(AT - timedelta(minutes=40), AT - timedelta(minutes=10))
    plan = plan_cycle([spec("order", "availability", OTEL.availability())], Settings(), AT,
                      maintenance=[outage])
    raw = fill(plan, {"order": 1000.0}, {"order": 100.0})
    thirty = plan.slos[0].windows[1]
    [x] = thirty.excluded
    assert x.queries.total is not None
    raw[x.queries.total] = BackendQueryError("prometheus", "HTTP 422: boom", status=422)
    [status] = run(plan, raw).slos
    w = status.window(1800)
    assert w is not None and w.sli is None
    assert w.reason == "cannot exclude maintenance: prometheus: HTTP 422: boom"
