"""Golden signals from known request counts and latency histograms."""

from __future__ import annotations

import math

import pytest

from sloctl.core.signals import Signal, SignalValue, golden_signals

INF = math.inf
# 600 requests in 5 minutes: 300 <= 0.1 s, 240 in (0.1, 0.25], 54 in (0.25, 0.5], 6 in (0.5, 1].
BUCKETS = [(0.1, 300.0), (0.25, 540.0), (0.5, 594.0), (1.0, 600.0), (INF, 600.0)]


def by_signal(values: tuple[SignalValue, ...]) -> dict[Signal, SignalValue]:
    return {v.signal: v for v in values}


def test_all_signals_known() -> None:
    values = golden_signals(
        "checkout", window=300, total=600.0, bad=6.0, buckets=BUCKETS, saturation=0.75
    )
    assert [v.signal for v in values] == list(Signal)
    assert all(v.service == "checkout" and v.reason is None for v in values)
    got = {v.signal: v.value for v in values}
    assert got == {
        Signal.TRAFFIC: 2.0,  # 600 / 300 s
        Signal.ERROR_RATIO: 0.01,  # 6 / 600
        Signal.LATENCY_P50: 0.1,  # rank 300 ends the first bucket
        Signal.LATENCY_P95: pytest.approx(0.25 + 0.25 * 30 / 54, rel=1e-12),  # rank 570
        Signal.LATENCY_P99: pytest.approx(0.5, rel=1e-12),  # rank 594 ends the 0.5 bucket
        Signal.SATURATION: 0.75,
    }


@pytest.mark.parametrize(
    ("kwargs", "signal", "value", "reason"),
    [
        pytest.param(
            {"total": 0.0, "bad": 0.0, "buckets": [(0.1, 0.0), (INF, 0.0)]},
            Signal.TRAFFIC,
            0.0,
            None,
            id="zero-traffic-is-a-real-zero",
        ),
        pytest.param(
            {"total": 0.0, "bad": 0.0},
            Signal.ERROR_RATIO,
            None,
            "no traffic in 5m",
            id="zero-traffic-error-ratio-unknown",
        ),
        pytest.param(
            {"buckets": [(0.1, 0.0), (INF, 0.0)]},
            Signal.LATENCY_P99,
            None,
            "no traffic in 5m",
            id="zero-traffic-latency-unknown",
        ),
        pytest.param(
            {"total": None, "reasons": {Signal.TRAFFIC: "prometheus unreachable"}},
            Signal.TRAFFIC,
            None,
            "prometheus unreachable",
            id="caller-reason-wins",
        ),
        pytest.param(
            {"total": None},
            Signal.TRAFFIC,
            None,
            "request count over 5m unknown",
            id="unknown-total-default-reason",
        ),
        pytest.param(
            {"bad": None},
            Signal.ERROR_RATIO,
            None,
            "request or error count over 5m unknown",
            id="unknown-bad",
        ),
        pytest.param(
            {"total": math.nan},
            Signal.TRAFFIC,
            None,
            "request count over 5m unknown",
            id="nan-total-unknown",
        ),
        pytest.param({"bad": 700.0}, Signal.ERROR_RATIO, 1.0, None, id="bad-above-total-clamped"),
        pytest.param(
            {"buckets": None},
            Signal.LATENCY_P50,
            None,
            "latency histogram over 5m unknown",
            id="no-histogram",
        ),
        pytest.param(
            {"buckets": [(0.1, 5.0), (0.2, 9.0)]},
            Signal.LATENCY_P95,
            None,
            "latency histogram has no +Inf bucket (or NaN values)",
            id="histogram-without-inf",
        ),
        pytest.param(
            {"buckets": [(INF, 9.0)]},
            Signal.LATENCY_P95,
            None,
            "latency histogram has no finite bucket",
            id="histogram-only-inf",
        ),
        pytest.param(
            {"saturation": None, "reasons": {Signal.SATURATION: "query returned no series"}},
            Signal.SATURATION,
            None,
            "query returned no series",
            id="saturation-unknown",
        ),
        pytest.param(
            {"saturation": math.nan},
            Signal.SATURATION,
            None,
            "saturation unknown",
            id="saturation-nan",
        ),
    ],
)
def test_one_signal(
    kwargs: dict[str, object], signal: Signal, value: float | None, reason: str | None
) -> None:
    inputs: dict[str, object] = {
        "total": 600.0,
        "bad": 6.0,
        "buckets": BUCKETS,
        "saturation": 0.75,
    } | kwargs
    values = by_signal(golden_signals("checkout", window=300, **inputs))  # type: ignore[arg-type]
    assert values[signal] == SignalValue("checkout", signal, value, reason)


def test_caller_reason_ignored_when_value_known() -> None:
    values = by_signal(
        golden_signals(
            "checkout",
            window=60,
            total=120.0,
            bad=0.0,
            buckets=BUCKETS,
            saturation=1.5,
            reasons={Signal.TRAFFIC: "stale"},
        )
    )
    assert values[Signal.TRAFFIC] == SignalValue("checkout", Signal.TRAFFIC, 2.0)


def test_non_positive_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        golden_signals("checkout", window=0, total=1.0, bad=0.0, buckets=None, saturation=None)
