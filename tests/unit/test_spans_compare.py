"""Prometheus vs Jaeger golden signals: disagreements beyond tolerance; sampling hides errors."""

from __future__ import annotations

import pytest

from sloctl.core.signals import Signal, SignalValue
from sloctl.core.span_stats import span_stats
from sloctl.core.spans import KIND_SERVER, SpanColumns
from sloctl.core.trace_compare import Severity, Tolerance, compare_signals

MS = 1_000_000


def _jaeger() -> SpanColumns:
    """checkout: 10 server spans in 10 s (1 req/s), 1 error (10 %), 100..1000 ms."""
    spans = SpanColumns()
    for n in range(10):
        spans.append(
            trace_id=f"t{n}",
            span_id="s",
            service="checkout",
            operation="POST",
            kind=KIND_SERVER,
            duration_ns=(n + 1) * 100 * MS,
            error=n == 0,
        )
    return spans


STATS = span_stats(_jaeger(), window_seconds=10)  # p95 = 955 ms


@pytest.mark.parametrize(
    ("signal", "prom", "tolerance", "expected"),
    [
        pytest.param(Signal.TRAFFIC, 1.1, Tolerance(), [], id="rate-within-25pct"),
        pytest.param(
            Signal.TRAFFIC,
            2.0,
            Tolerance(),
            [(Severity.WARNING, 2.0, 1.0)],
            id="rate-half-of-prometheus",
        ),
        pytest.param(
            Signal.TRAFFIC, 10.0, Tolerance(sampling_ratio=0.1), [], id="rate-scaled-by-sampling"
        ),
        pytest.param(Signal.LATENCY_P95, 0.9, Tolerance(), [], id="p95-within-tolerance"),
        pytest.param(
            Signal.LATENCY_P95,
            0.5,
            Tolerance(),
            [(Severity.WARNING, 0.5, 0.955)],
            id="p95-far-above-prometheus",
        ),
        pytest.param(Signal.ERROR_RATIO, 0.105, Tolerance(), [], id="error-ratio-close"),
        pytest.param(
            Signal.ERROR_RATIO,
            0.30,
            Tolerance(),
            [(Severity.NOTE, 0.30, 0.1)],
            id="jaeger-sees-fewer-errors-note",
        ),
        pytest.param(
            Signal.ERROR_RATIO,
            0.01,
            Tolerance(),
            [(Severity.WARNING, 0.01, 0.1)],
            id="jaeger-sees-more-errors-warning",
        ),
        pytest.param(Signal.SATURATION, 99.0, Tolerance(), [], id="saturation-not-compared"),
    ],
)
def test_compare_signals(
    signal: Signal, prom: float, tolerance: Tolerance, expected: list[tuple[Severity, float, float]]
) -> None:
    found = compare_signals([SignalValue("checkout", signal, prom)], STATS, tolerance)
    got = [(d.severity, d.prometheus, round(d.jaeger, 6)) for d in found]
    assert got == expected
    assert all(d.service == "checkout" and d.signal == signal for d in found)


def test_lower_jaeger_error_ratio_says_sampling_may_hide_errors() -> None:
    (note,) = compare_signals([SignalValue("checkout", Signal.ERROR_RATIO, 0.3)], STATS)
    assert "sampling may hide errors" in note.message
    assert "10.00%" in note.message and "30.00%" in note.message


def test_unknown_values_and_unknown_services_are_skipped() -> None:
    prom = [
        SignalValue("checkout", Signal.TRAFFIC, None, reason="backend down"),
        SignalValue("cart", Signal.TRAFFIC, 50.0),
    ]
    assert compare_signals(prom, STATS) == []


def test_sampling_ratio_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="sampling_ratio"):
        compare_signals([], STATS, Tolerance(sampling_ratio=0))
