"""HTTP metrics vs span metrics per service: disagreements beyond the tolerance, with the fix."""

from __future__ import annotations

import pytest

from sloctl.core.signals import Signal, SignalValue
from sloctl.core.span_metrics import OperationStats, kind_name, operation_stats
from sloctl.core.trace_compare import SpanRates, Tolerance, compare_with_spans

# checkout's server spans over 5 min: 300 calls (1 req/s), 30 failed (10 %).
SPANS = {"checkout": SpanRates.from_counts(300, 30, 300)}


def test_span_rates_from_counts() -> None:
    assert SpanRates.from_counts(300, 30, 300) == SpanRates(1.0, 0.1)
    assert SpanRates.from_counts(0, 0, 300) == SpanRates(0.0, None)
    with pytest.raises(ValueError, match="window_seconds must be positive"):
        SpanRates.from_counts(1, 0, 0)


@pytest.mark.parametrize(
    ("signal", "http", "tolerance", "expected"),
    [
        pytest.param(Signal.TRAFFIC, 1.2, Tolerance(), [], id="rate-within-25pct"),
        pytest.param(Signal.TRAFFIC, 2.0, Tolerance(), [(2.0, 1.0)], id="spans-half-the-rate"),
        pytest.param(Signal.TRAFFIC, 0.5, Tolerance(), [(0.5, 1.0)], id="spans-twice-the-rate"),
        pytest.param(Signal.TRAFFIC, 2.0, Tolerance(rate_relative=1.0), [], id="wide-tolerance"),
        pytest.param(Signal.ERROR_RATIO, 0.105, Tolerance(), [], id="error-ratio-close"),
        pytest.param(Signal.ERROR_RATIO, 0.30, Tolerance(), [(0.30, 0.1)], id="spans-fewer"),
        pytest.param(Signal.ERROR_RATIO, 0.01, Tolerance(), [(0.01, 0.1)], id="spans-more"),
        pytest.param(Signal.LATENCY_P95, 9.0, Tolerance(), [], id="latency-not-compared"),
        pytest.param(Signal.SATURATION, 99.0, Tolerance(), [], id="saturation-not-compared"),
    ],
)
def test_compare_with_spans(
    signal: Signal, http: float, tolerance: Tolerance, expected: list[tuple[float, float]]
) -> None:
    found = compare_with_spans([SignalValue("checkout", signal, http)], SPANS, tolerance)
    assert [(d.service, d.signal, d.http, d.spans) for d in found] == [
        ("checkout", signal, h, s) for h, s in expected
    ]


def test_a_low_span_rate_points_at_head_sampling() -> None:
    (d,) = compare_with_spans([SignalValue("checkout", Signal.TRAFFIC, 10.0)], SPANS)
    assert d.message == (
        "checkout: request rate from span metrics 1 req/s differs from the HTTP metrics' 10 "
        "req/s by more than 25%; spans are dropped or sampled before the collector (the tracers' "
        "head sampling?): span metrics must see every span, so sample in the collector after "
        "its span_metrics connector"
    )


def test_a_different_error_ratio_names_both_error_rules() -> None:
    (d,) = compare_with_spans([SignalValue("checkout", Signal.ERROR_RATIO, 0.3)], SPANS)
    assert d.message == (
        "checkout: error ratio from span metrics 10.00% differs from the HTTP metrics' 30.00% "
        "by more than 1 percentage point; check that both count the same errors (HTTP 5xx vs "
        "span status ERROR)"
    )


def test_unknown_values_and_services_without_span_metrics_are_skipped() -> None:
    http = [
        SignalValue("checkout", Signal.TRAFFIC, None, "prometheus unreachable"),
        SignalValue("cart", Signal.TRAFFIC, 5.0),
        SignalValue("idle", Signal.ERROR_RATIO, 0.5),
    ]
    spans = {**SPANS, "idle": SpanRates.from_counts(0, 0, 300)}  # no calls: no error ratio
    assert compare_with_spans(http, spans) == []


KEY = ("payment", "POST /charge", "SPAN_KIND_SERVER")
CLIENT = ("payment", "POST /bank", "SPAN_KIND_CLIENT")


def test_operation_stats_busiest_first_with_rates_ratios_and_missing_values() -> None:
    rows = operation_stats(
        3600,
        requests={KEY: 7200.0, CLIENT: 360.0, ("payment", "idle", "SPAN_KIND_SERVER"): 0.0},
        errors={KEY: 72.0},
        quantiles={0.5: {KEY: 0.1}, 0.95: {KEY: 0.65, CLIENT: float("nan")}, 0.99: {KEY: 0.93}},
    )
    assert rows == [
        OperationStats("payment", "POST /charge", "server", 3600, 7200.0, 72.0, 0.1, 0.65, 0.93),
        OperationStats("payment", "POST /bank", "client", 3600, 360.0, 0.0, None, None, None),
    ]
    assert (rows[0].rate_per_second, rows[0].error_ratio) == (2.0, 0.01)
    assert (rows[1].rate_per_second, rows[1].error_ratio) == (0.1, 0.0)


def test_operation_stats_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window_seconds must be positive"):
        operation_stats(0, {}, {}, {})


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("SPAN_KIND_SERVER", "server"),
        ("SPAN_KIND_CLIENT", "client"),
        ("SPAN_KIND_UNSPECIFIED", "unspecified"),
        ("", "unspecified"),
        ("Internal", "internal"),
    ],
)
def test_kind_name(label: str, name: str) -> None:
    assert kind_name(label) == name
