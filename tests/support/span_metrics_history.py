"""Span metrics with known values, as OpenMetrics text for promtool, next to the shop's history.

The series are what the collector's span_metrics connector writes to Prometheus
(collector_config/otelcol.yaml): ``traces_span_metrics_calls_total`` and
``traces_span_metrics_duration_seconds_{bucket,count,sum}`` labelled ``service_name``,
``span_name``, ``span_kind`` and ``status_code``. Two kinds of operation:

- ``ConstantOperation``: a constant request rate, error share and bucket shares, so
  ``increase()`` and ``histogram_quantile()`` over any window inside the data are known by hand;
- ``ShopCopy``: a service's HTTP server series of the shop scenario as server spans, times
  ``scale`` (1: the span metrics agree with the HTTP metrics; 0.5: what head sampling at 50 %
  would leave).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sloctl.demo.scenario import BAD_CODE, CODES, HISTOGRAM, LE_LABELS, Scenario, SeriesKey

CALLS = "traces_span_metrics_calls"
DURATION = "traces_span_metrics_duration_seconds"
ERROR = "STATUS_CODE_ERROR"
UNSET = "STATUS_CODE_UNSET"
SERVER = "SPAN_KIND_SERVER"
CLIENT = "SPAN_KIND_CLIENT"


@dataclass(frozen=True)
class ConstantOperation:
    """``rate`` calls/s from ``start`` (counters 0 there), ``error_share`` of them failed.

    ``buckets`` are (le, cumulative share of calls) pairs; the last bound must be +Inf with 1.0.
    Every call lasts ``mean_seconds`` as far as ``_sum`` is concerned.
    """

    service: str
    span_name: str
    span_kind: str
    rate: float
    error_share: float
    buckets: tuple[tuple[float, float], ...]
    mean_seconds: float = 0.1

    def calls(self, status: str, t: float, start: float) -> float:
        share = self.error_share if status == ERROR else 1.0 - self.error_share
        return self.rate * share * (t - start)


@dataclass(frozen=True)
class ShopCopy:
    """The shop's HTTP server series of ``service`` as server spans named ``span_name``."""

    service: str
    span_name: str
    scale: float = 1.0


Operation = ConstantOperation | ShopCopy


def _labels(service: str, span_name: str, kind: str, status: str, le: str | None = None) -> str:
    pairs = [
        ("service_name", service),
        ("span_name", span_name),
        ("span_kind", kind),
        ("status_code", status),
        *((("le", le),) if le is not None else ()),
    ]
    return ",".join(f'{k}="{v}"' for k, v in pairs)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(bound)


def _series(
    op: Operation, times: Sequence[float], scenario: Scenario
) -> Iterator[tuple[str, str, list[float]]]:
    """(sample name, labels, values at ``times``) of every series of ``op``."""
    start = times[0]
    if isinstance(op, ConstantOperation):
        for status in (UNSET, ERROR):
            calls = [op.calls(status, t, start) for t in times]
            labels = _labels(op.service, op.span_name, op.span_kind, status)
            yield f"{CALLS}_total", labels, calls
            for bound, share in op.buckets:
                le = _labels(op.service, op.span_name, op.span_kind, status, _le(bound))
                yield f"{DURATION}_bucket", le, [c * share for c in calls]
            yield f"{DURATION}_count", labels, calls
            yield f"{DURATION}_sum", labels, [c * op.mean_seconds for c in calls]
        return
    values = scenario.values(op.service, list(times))
    for code in CODES:
        status = ERROR if code == BAD_CODE else UNSET
        labels = _labels(op.service, op.span_name, SERVER, status)

        def scaled(metric: str, le: str | None = None, code: str = code) -> list[float]:
            series = values[SeriesKey(f"{HISTOGRAM}_{metric}", op.service, code, le)]
            return [v * op.scale for v in series.tolist()]

        yield f"{CALLS}_total", labels, scaled("count")
        for le in LE_LABELS:
            bucket = _labels(op.service, op.span_name, SERVER, status, le)
            yield f"{DURATION}_bucket", bucket, scaled("bucket", le)
        yield f"{DURATION}_count", labels, scaled("count")
        yield f"{DURATION}_sum", labels, scaled("sum")


def write_span_metrics(
    path: Path, operations: Sequence[Operation], times: Sequence[float], scenario: Scenario
) -> None:
    """OpenMetrics for ``promtool tsdb create-blocks-from openmetrics``: the counter family,
    then the histogram family, each series at every one of ``times`` (whole unix seconds)."""
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise ValueError("times must be strictly increasing")
    series = [s for op in operations for s in _series(op, times, scenario)]
    stamps = [f" {int(t)}\n" for t in times]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for family, kind in ((CALLS, "counter"), (DURATION, "histogram")):
            out.write(f"# TYPE {family} {kind}\n")
            for name, labels, values in series:
                if name.rsplit("_", 1)[0] == family:
                    prefix = f"{name}{{{labels}}} "
                    out.writelines(
                        prefix + repr(v) + s for v, s in zip(values, stamps, strict=True)
                    )
        out.write("# EOF\n")
