"""HTTP metric presets: which metric and label names a service's instrumentation uses.

``otel-http`` follows the OpenTelemetry semantic conventions as exported to Prometheus;
``prometheus-http`` the classic Prometheus client library names; ``spanmetrics`` the RED metrics
the collector's spanmetrics connector derives from server spans (collector_config/otelcol.yaml).
Indicator presets are named ``<preset>-availability`` and ``<preset>-latency``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sloctl.spec.models import HistogramLatency, Matcher, MetricRatio

DEFAULT_LATENCY_THRESHOLD = 0.3  # seconds
IndicatorPresetKind = Literal["availability", "latency"]


@dataclass(frozen=True)
class HttpPreset:
    """Metric and label names of one HTTP instrumentation convention."""

    name: str
    service_label: str
    histogram: str  # base name, without _bucket/_count/_sum
    counter: str  # series counting all requests
    status_label: str
    error_regex: str  # status codes that count as errors
    saturation_query: str  # PromQL grouped by service_label; "{{window}}" allowed
    base_selector: tuple[Matcher, ...] = ()  # matchers every query of this preset needs

    def availability(self, selector: tuple[Matcher, ...] = ()) -> MetricRatio:
        """Share of requests answered with a status matching ``error_regex``."""
        errors = (Matcher(self.status_label, "=~", self.error_regex),)
        return MetricRatio(self.counter, (*self.base_selector, *selector), errors)

    def latency(
        self, threshold: float = DEFAULT_LATENCY_THRESHOLD, selector: tuple[Matcher, ...] = ()
    ) -> HistogramLatency:
        """Share of requests slower than ``threshold`` seconds."""
        return HistogramLatency(self.histogram, (*self.base_selector, *selector), threshold)


PRESETS: dict[str, HttpPreset] = {
    "otel-http": HttpPreset(
        "otel-http",
        "service_name",
        "http_server_request_duration_seconds",
        "http_server_request_duration_seconds_count",
        "http_response_status_code",
        "5..",
        "sum by (service_name) (rate(process_cpu_seconds_total[{{window}}]))",
    ),
    "prometheus-http": HttpPreset(
        "prometheus-http",
        "job",
        "http_request_duration_seconds",
        "http_requests_total",
        "code",
        "5..",
        "sum by (job) (rate(process_cpu_seconds_total[{{window}}]))",
    ),
    # Names as produced by collector_config/otelcol.yaml (namespace traces.span.metrics, unit s,
    # remote write with suffixes); only server spans are requests of the service itself.
    "spanmetrics": HttpPreset(
        "spanmetrics",
        "service_name",
        "traces_span_metrics_duration_seconds",
        "traces_span_metrics_calls_total",
        "status_code",
        "STATUS_CODE_ERROR",
        "sum by (service_name) (rate(process_cpu_seconds_total[{{window}}]))",
        base_selector=(Matcher("span_kind", "=", "SPAN_KIND_SERVER"),),
    ),
}

INDICATOR_PRESETS: tuple[str, ...] = tuple(
    f"{name}-{kind}" for name in PRESETS for kind in ("availability", "latency")
)


class UnknownPresetError(KeyError):
    """A preset name that does not exist; ``str()`` lists the valid names."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_preset(name: str) -> HttpPreset:
    """The HTTP preset called ``name``, or ``UnknownPresetError`` listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        valid = ", ".join(PRESETS)
        raise UnknownPresetError(f"unknown preset {name!r}; valid presets: {valid}") from None


def split_indicator_preset(name: str) -> tuple[HttpPreset, IndicatorPresetKind]:
    """``"otel-http-latency"`` -> (the otel-http preset, "latency"), or ``UnknownPresetError``."""
    kinds: tuple[IndicatorPresetKind, ...] = ("availability", "latency")
    for kind in kinds:
        base = name.removesuffix(f"-{kind}")
        if base != name and base in PRESETS:
            return PRESETS[base], kind
    valid = ", ".join(INDICATOR_PRESETS)
    raise UnknownPresetError(f"unknown indicator preset {name!r}; valid presets: {valid}")
