"""Small histories of the metric layouts ``sloctl discover`` must tell apart, for promtool.

Each :class:`Layout` is one service as one setup lands it in Prometheus: classic client
libraries (``http_requests_total`` by ``job``), the collector's spanmetrics connector (with or
without the ``traces.span.metrics`` namespace, in s or ms, ``service_name`` on the series), the
collector with ``resource_to_telemetry_conversion`` (``service_name`` on OpenTelemetry HTTP
series), Prometheus' OTLP receiver (``job`` = ``namespace/name``, a ``target_info`` without
``service_name``) and old-semconv gRPC. Counters grow at ``RATE`` requests/s from the first
sample, ``ERROR_SHARE`` of them failed; bucket ``le`` (in seconds) holds
``1 - exp(-le / 0.15)`` of them, so every bound's value is known.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

RATE = 2.0  # requests per second per service
ERROR_SHARE = 0.01

# le spellings as each producer writes them.
CLIENT_DEFAULT = ("0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0",
                  "2.5", "5.0", "7.5", "10.0")  # Python prometheus_client
OTEL_SECONDS = ("0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1",
                "2.5", "5", "7.5", "10")  # the SDK's advised buckets
OTEL_SECONDS_VIEW = (*OTEL_SECONDS[:7], "0.3", *OTEL_SECONDS[7:])
OUR_COLLECTOR_S = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.3", "0.5", "1", "2.5",
                   "5", "10")  # collector_config/otelcol.yaml
CONNECTOR_DEFAULT_MS = ("2", "4", "6", "8", "10", "50", "100", "200", "400", "800", "1000",
                        "1400", "2000", "5000", "10000", "15000")
CONNECTOR_MS_WITH_300 = ("5", "10", "25", "50", "100", "250", "300", "500", "1000", "2500")
SDK_MS = ("0.0", "5.0", "10.0", "25.0", "50.0", "75.0", "100.0", "250.0", "500.0", "750.0",
          "1000.0", "2500.0", "5000.0", "7500.0", "10000.0")


@dataclass(frozen=True)
class Layout:
    """One service's series in one layout."""

    service: str
    counter: str | None  # counter sample name (``..._total``); None: the histogram's _count
    histogram: str | None  # histogram base name
    unit: float  # seconds per histogram unit
    bounds: tuple[str, ...]  # le spellings (finite)
    identity: dict[str, str]  # the labels that name the service (and job/instance)
    status_label: str
    ok: str
    error: str
    extra: dict[str, str] = field(default_factory=dict)  # e.g. span_kind
    target_info: dict[str, str] | None = None


SPAN = {"span_kind": "SPAN_KIND_SERVER", "span_name": "GET /"}
COLLECTOR = {"job": "otelcol", "instance": "collector:8889"}


def spanmetrics(service: str, prefix: str, unit: str, bounds: tuple[str, ...]) -> Layout:
    return Layout(
        service, f"{prefix}calls_total", f"{prefix}duration_{unit}",
        0.001 if unit == "milliseconds" else 1.0, bounds,
        {"service_name": service, **COLLECTOR}, "status_code", "STATUS_CODE_UNSET",
        "STATUS_CODE_ERROR", extra=SPAN,
    )


LAYOUTS: tuple[Layout, ...] = (
    Layout("billing", "http_requests_total", "http_request_duration_seconds", 1.0,
           CLIENT_DEFAULT, {"job": "billing", "instance": "10.0.0.7:8000"}, "code", "200", "500"),
    spanmetrics("cart", "traces_span_metrics_", "seconds", OUR_COLLECTOR_S),
    spanmetrics("search", "traces_span_metrics_", "milliseconds", CONNECTOR_DEFAULT_MS),
    spanmetrics("ads", "", "seconds", OUR_COLLECTOR_S),
    spanmetrics("email", "", "milliseconds", CONNECTOR_MS_WITH_300),
    Layout("checkout", None, "http_server_request_duration_seconds", 1.0, OTEL_SECONDS_VIEW,
           {"service_name": "checkout", **COLLECTOR}, "http_response_status_code", "200", "500"),
    Layout("shop/payments", None, "http_server_request_duration_seconds", 1.0, OTEL_SECONDS,
           {"job": "shop/payments", "instance": "6f1c2a"}, "http_response_status_code", "200",
           "500", target_info={"job": "shop/payments", "instance": "6f1c2a",
                               "service_version": "1.4.2"}),
    Layout("ledger", None, "rpc_server_duration_milliseconds", 0.001, SDK_MS,
           {"service_name": "ledger", **COLLECTOR}, "rpc_grpc_status_code", "0", "13"),
)


def share_within(le_seconds: float) -> float:
    """The share of requests at or below ``le_seconds``."""
    return 1.0 - math.exp(-le_seconds / 0.15)


def _labels(pairs: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(pairs.items()))


def _series(layout: Layout, times: Sequence[float]) -> Iterator[tuple[str, str, str, list[float]]]:
    """(family, sample name, labels, values) of every series of ``layout``."""
    start = times[0]
    for status, share in ((layout.ok, 1.0 - ERROR_SHARE), (layout.error, ERROR_SHARE)):
        base = {**layout.identity, **layout.extra, layout.status_label: status}
        calls = [RATE * share * (t - start) for t in times]
        if layout.counter is not None:
            family = layout.counter.removesuffix("_total")
            yield family, layout.counter, _labels(base), calls
        if layout.histogram is None:
            continue
        for le in (*layout.bounds, "+Inf"):
            seconds = math.inf if le == "+Inf" else float(le) * layout.unit
            fraction = 1.0 if math.isinf(seconds) else share_within(seconds)
            yield (layout.histogram, f"{layout.histogram}_bucket",
                   _labels({**base, "le": le}), [round(c * fraction, 6) for c in calls])
        yield layout.histogram, f"{layout.histogram}_count", _labels(base), calls
        mean = 0.15 / layout.unit
        yield layout.histogram, f"{layout.histogram}_sum", _labels(base), [c * mean for c in calls]
    if layout.target_info is not None:
        yield "target_info", "target_info", _labels(layout.target_info), [1.0 for _ in times]


def write_layouts(path: Path, layouts: Sequence[Layout], times: Sequence[float]) -> None:
    """OpenMetrics text of ``layouts`` at ``times`` (whole unix seconds), families contiguous."""
    by_family: dict[str, list[tuple[str, str, list[float]]]] = {}
    kinds: dict[str, str] = {}
    for layout in layouts:
        for family, name, labels, values in _series(layout, times):
            by_family.setdefault(family, []).append((name, labels, values))
            kinds[family] = ("counter" if name.endswith("_total") else "gauge"
                             if family == "target_info" else "histogram")
    stamps = [f" {int(t)}\n" for t in times]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for family, series in by_family.items():
            out.write(f"# TYPE {family} {kinds[family]}\n")
            for name, labels, values in series:
                prefix = f"{name}{{{labels}}} "
                out.writelines(prefix + repr(v) + s for v, s in zip(values, stamps, strict=True))
        out.write("# EOF\n")
