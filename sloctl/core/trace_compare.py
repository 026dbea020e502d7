"""Compare golden signals from Prometheus with the same signals computed from Jaeger spans.

Traces are usually sampled: Jaeger's request rate is scaled by ``1 / sampling_ratio`` before
it is compared, and a Jaeger error ratio *lower* than Prometheus' is reported as a note that
sampling may hide errors, not as an alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sloctl.core.signals import Signal, SignalValue
from sloctl.core.spans import SpanStats


class Severity(StrEnum):
    WARNING = "warning"  # the two sources disagree beyond the tolerance
    NOTE = "note"  # a difference that sampling explains (Jaeger sees fewer errors)


@dataclass(frozen=True)
class Tolerance:
    """How far Prometheus and Jaeger may differ before a disagreement is reported."""

    rate_relative: float = 0.25  # |jaeger - prom| / prom
    error_ratio_absolute: float = 0.01  # |jaeger - prom|, in ratio points (0.01 = 1 %)
    latency_relative: float = 0.25
    sampling_ratio: float = 1.0  # share of requests Jaeger keeps (head sampling probability)


@dataclass(frozen=True)
class Disagreement:
    """One golden signal of one service on which the two sources disagree."""

    service: str
    signal: Signal
    prometheus: float
    jaeger: float
    severity: Severity
    message: str


_COMPARED = (Signal.TRAFFIC, Signal.ERROR_RATIO, Signal.LATENCY_P95)


def compare_signals(
    prometheus: Iterable[SignalValue], jaeger: SpanStats, tolerance: Tolerance = Tolerance()
) -> list[Disagreement]:
    """Disagreements on traffic, error ratio and p95 latency for services both sources know.

    Unknown Prometheus values and services without Jaeger entry spans are skipped.
    """
    if not 0 < tolerance.sampling_ratio <= 1:
        raise ValueError(f"sampling_ratio must be within (0, 1]; got {tolerance.sampling_ratio}")
    found: list[Disagreement] = []
    for value in prometheus:
        if value.signal not in _COMPARED or value.value is None:
            continue
        service = jaeger.service(value.service)
        if service is None:
            continue
        prom = value.value
        if value.signal == Signal.TRAFFIC:
            seen = service.stats.rate_per_second / tolerance.sampling_ratio
            found += _relative(value, seen, tolerance.rate_relative, "request rate", "req/s")
        elif value.signal == Signal.LATENCY_P95:
            seen = service.stats.p95_seconds
            found += _relative(value, seen, tolerance.latency_relative, "p95 latency", "s")
        else:
            seen = service.stats.error_ratio
            if abs(seen - prom) <= tolerance.error_ratio_absolute:
                continue
            if seen < prom:
                message = (
                    f"{value.service}: Jaeger error ratio {seen:.2%} is below Prometheus' "
                    f"{prom:.2%}; sampling may hide errors (trust Prometheus for the SLO)"
                )
                found.append(
                    Disagreement(value.service, value.signal, prom, seen, Severity.NOTE, message)
                )
            else:
                message = (
                    f"{value.service}: Jaeger error ratio {seen:.2%} is above Prometheus' "
                    f"{prom:.2%}; check that both count the same errors (5xx, span status)"
                )
                found.append(
                    Disagreement(value.service, value.signal, prom, seen, Severity.WARNING, message)
                )
    return found


def _relative(
    value: SignalValue, seen: float, tolerance: float, what: str, unit: str
) -> list[Disagreement]:
    prom = value.value
    assert prom is not None
    scale = max(abs(prom), 1e-12)
    if abs(seen - prom) / scale <= tolerance:
        return []
    message = (
        f"{value.service}: {what} from Jaeger {seen:.4g} {unit} differs from Prometheus' "
        f"{prom:.4g} {unit} by more than {tolerance:.0%}; check the sampling ratio and that "
        "both query the same service and window"
    )
    return [Disagreement(value.service, value.signal, prom, seen, Severity.WARNING, message)]
