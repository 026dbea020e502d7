"""The cycle's plan: which queries each SLO and signal needs, shared and deduplicated."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sloctl.core.burn import THIRTY_DAYS
from sloctl.core.windows import ALERT_WINDOWS
from sloctl.evaluation.plan import Query, plan_cycle, signal_windows
from sloctl.settings import Settings
from sloctl.spec.models import (
    HistogramLatency,
    LogRatio,
    Matcher,
    MetricRatio,
    SLOSpec,
    Window,
)
from sloctl.spec.presets import PRESETS

AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
OTEL = PRESETS["otel-http"]
LEGACY = PRESETS["otel-http-legacy"]


def spec(service: str, name: str, indicator: object, *, join: bool = False,
         window: Window = Window(28 * 86400), label: str = "service_name") -> SLOSpec:
    return SLOSpec(service, name, 99.5, window, label, indicator,  # type: ignore[arg-type]
                   service_from_target_info=join)


def test_slos_on_one_metric_share_every_query() -> None:
    one = [spec("a", "availability", OTEL.availability()), spec("a", "latency", OTEL.latency())]
    many = [
        spec(s, n, OTEL.availability() if n == "availability" else OTEL.latency())
        for s in ("a", "b", "c", "d")
        for n in ("availability", "latency")
    ]
    assert plan_cycle(one, Settings(), AT).queries() == plan_cycle(many, Settings(), AT).queries()


def test_latency_slos_on_one_histogram_share_one_bucket_query_per_window() -> None:
    fast = spec("a", "fast", HistogramLatency("h_seconds", (), 0.3))
    slow = spec("b", "slow", HistogramLatency("h_seconds", (), 1.0))
    plan = plan_cycle([fast, slow], Settings(), AT)
    five_a, five_b = plan.slos[0].windows[0], plan.slos[1].windows[0]
    assert five_a.buckets == five_b.buckets
    assert five_a.buckets == Query(
        "prometheus",
        'sum by (service_name, le) (increase(h_seconds_bucket{le=~"0\\\\.30*|1(\\\\.0*)?|\\\\+Inf"}'
        "[5m]))",
    )


def test_a_milliseconds_histogram_is_queried_at_the_bound_in_its_unit() -> None:
    plan = plan_cycle([spec("a", "latency", LEGACY.latency(0.3))], Settings(), AT)
    buckets = plan.slos[0].windows[0].buckets
    assert buckets is not None
    assert 'le=~"300(\\\\.0*)?|\\\\+Inf"' in buckets.text  # 300 ms, written 300 or 300.0


def test_target_info_identity_joins_series_without_the_label() -> None:
    plan = plan_cycle([spec("a", "availability", OTEL.availability(), join=True)], Settings(), AT)
    total = plan.slos[0].windows[0].total
    assert total == Query(
        "prometheus",
        'sum by (service_name) (increase(http_server_request_duration_seconds_count'
        '{service_name!=""}[5m])) or sum by (service_name) (increase('
        'http_server_request_duration_seconds_count{service_name=""}[5m]) * on (job, instance) '
        "group_left (service_name) max by (job, instance, service_name) "
        "(last_over_time(target_info[5m])))",
    )


def test_every_window_and_the_slo_window_are_planned_with_one_coverage_query() -> None:
    plan = plan_cycle([spec("a", "availability", OTEL.availability())], Settings(), AT)
    [p] = plan.slos
    assert [w.window for w in p.windows] == [*ALERT_WINDOWS, 28 * 86400]
    assert p.coverage is not None and p.coverage.text.count("count_over_time(") == 8
    # a sample counts as present for two scrape intervals (default 60 s)
    assert "last_over_time(http_server_request_duration_seconds_count[2m])" in p.coverage.text


def test_log_slos_are_planned_for_loki_in_the_same_plan() -> None:
    logs = spec("a", "logs", LogRatio((Matcher("env", "=", "prod"),), error_filter="ERROR"))
    plan = plan_cycle([logs, spec("a", "availability", OTEL.availability())], Settings(), AT)
    backends = {q.backend for q in plan.queries()}
    assert backends == {"prometheus", "loki"}
    loki = [q for q in plan.queries() if q.backend == "loki"]
    assert len(loki) == 2 * (len(ALERT_WINDOWS) + 1)  # total and bad per window
    assert plan.slos[0].coverage is None


def test_a_calendar_month_burns_with_thirty_day_factors_like_the_rules() -> None:
    month = spec("a", "month", OTEL.availability(), window=Window(None, "month"))
    [p] = plan_cycle([month], Settings(), AT).slos
    assert p.period == 30 * 86400  # November has 30 days
    assert p.slo_window == 19 * 86400 + 14 * 3600  # elapsed at 20 Nov 14:00 UTC
    assert p.rule_period == THIRTY_DAYS


def test_signals_are_planned_for_the_signal_window_and_each_default_alert_window() -> None:
    settings = Settings.model_validate(
        {"default_alerts": {"error_ratio": {"window_seconds": "10m"}}}
    )
    assert signal_windows(settings) == [300, 600]
    plan = plan_cycle([], settings, AT)
    assert sorted(plan.signals) == [300, 600]
    [default] = plan.signals[300]
    assert default.preset == "otel-http" and default.default
    assert default.identity.target_info  # otel-http: the label, else target_info
    assert len(plan.queries()) == 2 * 5  # total, bad, buckets, saturation, coverage per window


def test_each_service_gets_its_signals_from_the_preset_of_its_slos() -> None:
    """A service instrumented with the old semconv has its golden signals from that preset."""
    new = spec("a", "availability", OTEL.availability(), join=True)
    old = spec("b", "availability", LEGACY.availability(), join=True)
    plan = plan_cycle([replace(new, preset="otel-http"), replace(old, preset="otel-http-legacy")],
                      Settings(), AT)
    groups = {sq.preset: sq for sq in plan.signals[300]}
    assert sorted(groups) == ["otel-http", "otel-http-legacy"]
    assert groups["otel-http"].services == {"a"} and groups["otel-http"].default
    assert groups["otel-http-legacy"].services == {"b"} and not groups["otel-http-legacy"].default
    assert "http_server_duration_milliseconds_count" in groups["otel-http-legacy"].total.text
    assert groups["otel-http-legacy"].unit == 0.001


def test_a_metric_ratio_bad_query_adds_the_error_matchers() -> None:
    ratio = MetricRatio("http_requests_total", (Matcher("route", "=", "/x"),),
                        (Matcher("code", "=~", "5.."),))
    [p] = plan_cycle([spec("a", "r", ratio, label="job")], Settings(), AT).slos
    assert p.windows[0].bad == Query(
        "prometheus",
        'sum by (job) (increase(http_requests_total{route="/x",code=~"5.."}[5m]))',
    )
