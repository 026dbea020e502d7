"""The golden signals of one service over one window: traffic, errors, latency, saturation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sloctl.core import histogram
from sloctl.core.windows import window_name


class Signal(StrEnum):
    TRAFFIC = "traffic"  # requests per second
    ERROR_RATIO = "error_ratio"  # 0..1
    LATENCY_P50 = "latency_p50"  # seconds
    LATENCY_P95 = "latency_p95"
    LATENCY_P99 = "latency_p99"
    SATURATION = "saturation"  # configurable query, default process CPU (cores)


@dataclass(frozen=True)
class SignalValue:
    """One golden signal of one service at one instant."""

    service: str
    signal: Signal
    value: float | None
    reason: str | None = None


LATENCY_QUANTILES: tuple[tuple[Signal, float], ...] = (
    (Signal.LATENCY_P50, 0.50),
    (Signal.LATENCY_P95, 0.95),
    (Signal.LATENCY_P99, 0.99),
)


def golden_signals(
    service: str,
    *,
    window: int,
    total: float | None,
    bad: float | None,
    buckets: Sequence[tuple[float, float]] | None,
    saturation: float | None,
    reasons: Mapping[Signal, str] | None = None,
    unit: float = 1.0,
) -> tuple[SignalValue, ...]:
    """Traffic (req/s), error ratio, latency p50/p95/p99 (s) and saturation, in that order.

    ``total``/``bad`` are request counts over ``window`` seconds, ``buckets`` the cumulative
    latency histogram over the same window, in its ``unit`` (seconds per unit: 0.001 for
    milliseconds); latencies come out in seconds. A value that cannot be computed is ``None`` with a
    reason: the caller's (``reasons[signal]``, e.g. "prometheus unreachable") if given, else one
    derived from the data (no traffic, missing +Inf bucket, ...). NaN inputs count as unknown.
    Raises ValueError when ``window`` is not > 0.
    """
    if window <= 0:
        raise ValueError(f"window must be a positive number of seconds, got {window!r}")
    given = reasons or {}
    name = window_name(window)
    total, bad, saturation = _finite(total), _finite(bad), _finite(saturation)

    def value(signal: Signal, computed: float | None, why: str) -> SignalValue:
        if computed is not None:
            return SignalValue(service, signal, computed)
        return SignalValue(service, signal, None, given.get(signal, why))

    results = [
        value(
            Signal.TRAFFIC,
            None if total is None else total / window,
            f"request count over {name} unknown",
        ),
        value(Signal.ERROR_RATIO, *_error_ratio(total, bad, name)),
    ]
    for signal, q in LATENCY_QUANTILES:
        latency, why = _latency(q, buckets, name)
        results.append(value(signal, None if latency is None else latency * unit, why))
    results.append(value(Signal.SATURATION, saturation, "saturation unknown"))
    return tuple(results)


def _finite(number: float | None) -> float | None:
    return None if number is None or math.isnan(number) else number


def _error_ratio(total: float | None, bad: float | None, name: str) -> tuple[float | None, str]:
    if total is None or bad is None:
        return None, f"request or error count over {name} unknown"
    if total <= 0:
        return None, f"no traffic in {name}"
    return min(max(bad, 0.0), total) / total, ""


def _latency(
    q: float, buckets: Sequence[tuple[float, float]] | None, name: str
) -> tuple[float | None, str]:
    if buckets is None:
        return None, f"latency histogram over {name} unknown"
    result = histogram.quantile(q, buckets)
    if result is not None:
        return result, ""
    observations = histogram.total(buckets)
    if observations is None:
        return None, "latency histogram has no +Inf bucket (or NaN values)"
    if observations == 0:
        return None, f"no traffic in {name}"
    return None, "latency histogram has no finite bucket"
