"""Compare each service's request rate and error ratio from HTTP metrics and from span metrics.

Both sides are Prometheus series over the same window: the golden signals of the HTTP server
metrics, and the server spans that the collector's span_metrics connector counts. The connector
counts every span the collector receives, before anything is sampled for Jaeger, so no sampling
ratio is applied (a Jaeger sampling ratio would not change either side). A span rate well below
the HTTP rate therefore means spans are dropped or sampled *before* the collector, e.g. by the
tracers' head sampling: the message says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sloctl.core.signals import Signal, SignalValue


@dataclass(frozen=True)
class Tolerance:
    """How far the two sides may differ before a disagreement is reported."""

    rate_relative: float = 0.25  # |spans - http| / http
    error_ratio_absolute: float = 0.01  # |spans - http|, in ratio points (0.01 = 1 %)


@dataclass(frozen=True)
class SpanRates:
    """One service's server spans over the window, from span metrics."""

    requests_per_second: float
    error_ratio: float | None  # None without requests

    @classmethod
    def from_counts(cls, requests: float, errors: float, window_seconds: float) -> SpanRates:
        """From call and failed-call counts (``increase()`` over ``window_seconds``)."""
        if window_seconds <= 0:
            raise ValueError(f"window_seconds must be positive; got {window_seconds}")
        ratio = errors / requests if requests > 0 else None
        return cls(requests / window_seconds, ratio)


@dataclass(frozen=True)
class Disagreement:
    """One signal of one service on which the HTTP metrics and the span metrics disagree."""

    service: str
    signal: Signal  # TRAFFIC (req/s) or ERROR_RATIO (0..1)
    http: float
    spans: float
    message: str


def compare_with_spans(
    http: Iterable[SignalValue], spans: Mapping[str, SpanRates], tolerance: Tolerance = Tolerance()
) -> list[Disagreement]:
    """Disagreements on traffic and error ratio for the services both sides know.

    Unknown HTTP values, services without span metrics and error ratios without span requests
    are skipped.
    """
    found: list[Disagreement] = []
    for value in http:
        rates = spans.get(value.service)
        if rates is None or value.value is None:
            continue
        if value.signal == Signal.TRAFFIC:
            found += _traffic(value.service, value.value, rates.requests_per_second, tolerance)
        elif value.signal == Signal.ERROR_RATIO and rates.error_ratio is not None:
            found += _error_ratio(value.service, value.value, rates.error_ratio, tolerance)
    return found


def _traffic(service: str, http: float, spans: float, tolerance: Tolerance) -> list[Disagreement]:
    if abs(spans - http) <= tolerance.rate_relative * max(abs(http), 1e-12):
        return []
    why = (
        "spans are dropped or sampled before the collector (the tracers' head sampling?): "
        "span metrics must see every span, so sample in the collector after its span_metrics "
        "connector"
        if spans < http
        else "check that both count the same requests (server spans vs HTTP server requests) "
        "under the same service name"
    )
    message = (
        f"{service}: request rate from span metrics {spans:.4g} req/s differs from the HTTP "
        f"metrics' {http:.4g} req/s by more than {tolerance.rate_relative:.0%}; {why}"
    )
    return [Disagreement(service, Signal.TRAFFIC, http, spans, message)]


def _error_ratio(
    service: str, http: float, spans: float, tolerance: Tolerance
) -> list[Disagreement]:
    if abs(spans - http) <= tolerance.error_ratio_absolute:
        return []
    points = tolerance.error_ratio_absolute * 100
    message = (
        f"{service}: error ratio from span metrics {spans:.2%} differs from the HTTP metrics' "
        f"{http:.2%} by more than {points:g} percentage point{'' if points == 1 else 's'}; "
        "check that both count the same errors (HTTP 5xx vs span status ERROR)"
    )
    return [Disagreement(service, Signal.ERROR_RATIO, http, spans, message)]


@dataclass(frozen=True)
class SpanComparison:
    """What the HTTP-vs-span-metrics comparison found, and why parts were not compared."""

    disagreements: tuple[Disagreement, ...] = ()
    problems: tuple[str, ...] = ()
