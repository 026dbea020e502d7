"""How to make a latency threshold a bucket bound, as text to print (pure: no I/O).

A histogram's counts between two bounds cannot be split after the fact: no Prometheus query and
no OpenTelemetry Collector processor can add a bound to a histogram that was already bucketed.
The bound must be added where the histogram is recorded: an SDK View for OpenTelemetry
instrumentation, the spanmetrics connector's ``histogram.explicit.buckets`` for span metrics,
the ``buckets`` of a classic client library's histogram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sloctl.discover.bounds import format_seconds, unit_label
from sloctl.sources.promql import number
from sloctl.spec.models import in_unit

# The instrument behind each OpenTelemetry histogram, as it lands in Prometheus.
OTEL_INSTRUMENTS: dict[str, str] = {
    "http_server_request_duration_seconds": "http.server.request.duration",
    "http_server_duration_milliseconds": "http.server.duration",
    "rpc_server_call_duration_seconds": "rpc.server.call.duration",
    "rpc_server_duration_milliseconds": "rpc.server.duration",
}
SPANMETRICS_HISTOGRAMS = (
    "traces_span_metrics_duration_seconds",
    "traces_span_metrics_duration_milliseconds",
    "duration_seconds",
    "duration_milliseconds",
)
CLASSIC_HISTOGRAMS = ("http_request_duration_seconds",)

# Defaults, used when Prometheus showed no bounds to start from.
ADVISED_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
SDK_DEFAULT_MS = (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
SPANMETRICS_DEFAULT_S = (
    0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15,
)  # fmt: skip

COLLECTOR_CANNOT = (
    "The OpenTelemetry Collector cannot add this bound on the way: the requests between two "
    "bounds are already counted together, and no processor re-buckets a histogram. Add it "
    "where the histogram is recorded."
)


@dataclass(frozen=True)
class BucketFix:
    """The fix for one histogram: what to do (prose), the snippet (code), and a note (prose)."""

    title: str
    snippet: str
    note: str = ""

    def __str__(self) -> str:
        return "\n".join(part for part in (self.title, self.snippet, self.note) if part)


def with_bound(bounds: Sequence[float], bound: float) -> list[float]:
    """``bounds`` plus ``bound``, sorted, each once."""
    return sorted({float(b) for b in bounds} | {float(bound)})


def to_seconds(value: float, unit: float) -> float:
    """``value`` in a unit of ``unit`` seconds, as seconds without float noise (1400 ms -> 1.4)."""
    return float(Decimal(repr(float(value))) * Decimal(repr(unit)))


def _numbers(values: Sequence[float]) -> str:
    return ", ".join(number(v) for v in values)


def bucket_fix(metric: str, unit: float, bounds: Sequence[float], threshold: float) -> BucketFix:
    """How to add ``threshold`` (seconds) to ``metric``'s buckets (``bounds`` in its unit)."""
    bound = in_unit(threshold, unit)
    if metric in OTEL_INSTRUMENTS:
        default = ADVISED_SECONDS if unit == 1.0 else SDK_DEFAULT_MS
        return _sdk_view(OTEL_INSTRUMENTS[metric], unit, with_bound(bounds or default, bound))
    if metric in SPANMETRICS_HISTOGRAMS:
        seconds = [to_seconds(b, unit) for b in bounds] if bounds else list(SPANMETRICS_DEFAULT_S)
        return _spanmetrics(unit, with_bound(seconds, threshold))
    if metric in CLASSIC_HISTOGRAMS:
        return _classic(metric, with_bound(bounds or ADVISED_SECONDS, bound))
    return BucketFix(
        f"Add {number(bound)} ({unit_label(unit)}) to the bucket bounds of {metric} where it is "
        "recorded:",
        "  - OpenTelemetry SDK: a View on the instrument that produces it, with\n"
        "    ExplicitBucketHistogramAggregation([...]) listing the bounds;\n"
        "  - Prometheus client library: the histogram's buckets.",
        COLLECTOR_CANNOT,
    )


def _sdk_view(instrument: str, unit: float, bounds: list[float]) -> BucketFix:
    unit_name = unit_label(unit)
    snippet = (
        "  from opentelemetry.sdk.metrics import MeterProvider\n"
        "  from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View\n"
        "\n"
        "  view = View(\n"
        f'      instrument_name="{instrument}",  # unit: {unit_name}\n'
        f"      aggregation=ExplicitBucketHistogramAggregation([{_numbers(bounds)}]),\n"
        "  )\n"
        "  provider = MeterProvider(resource=..., metric_readers=[...], views=[view])"
    )
    return BucketFix(
        f"Add the bound with an OpenTelemetry SDK View on {instrument} (Python shown; bounds in "
        f"{unit_name}):",
        snippet,
        "Other SDKs have the same View (Java SdkMeterProvider.builder().registerView, Go "
        "metric.NewView, .NET AddView). " + COLLECTOR_CANNOT,
    )


def _spanmetrics(unit: float, seconds: list[float]) -> BucketFix:
    buckets = ", ".join(format_seconds(s) for s in seconds)
    snippet = (
        "  connectors:\n"
        "    span_metrics:          # \"spanmetrics\" in collectors before contrib PR #47963\n"
        "      histogram:\n"
        f"        unit: {unit_label(unit)}             # keep the unit your series have\n"
        "        explicit:\n"
        f"          buckets: [{buckets}]"
    )
    return BucketFix(
        "Add the bound to the spanmetrics connector's buckets in the OpenTelemetry Collector "
        "config (histogram.explicit.buckets):",
        snippet,
    )


def _classic(metric: str, bounds: list[float]) -> BucketFix:
    snippet = (
        "  from prometheus_client import Histogram\n"
        "\n"
        f'  latency = Histogram("{metric}", "Request latency",\n'
        f"                      buckets=({_numbers(bounds)}, float(\"inf\")))"
    )
    return BucketFix(
        f"Add the bound to the buckets of {metric} in the Prometheus client library (Python "
        "shown):",
        snippet,
        "Go (client_golang): prometheus.HistogramOpts{Buckets: []float64{...}}.",
    )
