"""HTTP metric presets: which metric and label names a service's instrumentation uses.

``otel-http`` follows the OpenTelemetry HTTP semantic conventions as exported to Prometheus,
``otel-http-legacy`` the conventions before 1.21 (milliseconds); ``prometheus-http`` the classic
Prometheus client library names; ``spanmetrics*`` the RED metrics the collector's spanmetrics
connector derives from server spans (collector_config/otelcol.yaml). The OpenTelemetry presets
take the service name from ``target_info`` for series that lack it (a direct scrape of the SDK's
Prometheus exporter); ``sloctl discover`` tells which preset a Prometheus holds.
Indicator presets are named ``<preset>-availability`` and ``<preset>-latency``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sloctl.spec.models import HistogramLatency, Matcher, MetricRatio, ServiceIdentity, unit_of

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
    service_from_target_info: bool = False  # see ServiceIdentity
    description: str = ""

    @property
    def unit(self) -> float:
        """The latency histogram's unit in seconds (from its name: 0.001 for _milliseconds)."""
        unit = unit_of(self.histogram)
        assert unit is not None, f"preset {self.name}: histogram without a unit suffix"
        return unit

    @property
    def identity(self) -> ServiceIdentity:
        return ServiceIdentity(self.service_label, self.service_from_target_info)

    def availability(self, selector: tuple[Matcher, ...] = ()) -> MetricRatio:
        """Share of requests answered with a status matching ``error_regex``."""
        errors = (Matcher(self.status_label, "=~", self.error_regex),)
        return MetricRatio(self.counter, (*self.base_selector, *selector), errors)

    def latency(
        self, threshold: float = DEFAULT_LATENCY_THRESHOLD, selector: tuple[Matcher, ...] = ()
    ) -> HistogramLatency:
        """Share of requests slower than ``threshold`` seconds."""
        return HistogramLatency(
            self.histogram, (*self.base_selector, *selector), threshold, self.unit
        )


def _cpu(label: str) -> str:
    return f"sum by ({label}) (rate(process_cpu_seconds_total[{{{{window}}}}]))"


def _spanmetrics(name: str, prefix: str, unit: str, description: str) -> HttpPreset:
    # Only server spans are requests of the service itself.
    return HttpPreset(
        name,
        "service_name",
        f"{prefix}duration_{unit}",
        f"{prefix}calls_total",
        "status_code",
        "STATUS_CODE_ERROR",
        _cpu("service_name"),
        base_selector=(Matcher("span_kind", "=", "SPAN_KIND_SERVER"),),
        description=description,
    )


PRESETS: dict[str, HttpPreset] = {
    # OpenTelemetry HTTP semantic conventions 1.21+ (OTEL_SEMCONV_STABILITY_OPT_IN=http, and the
    # default of newer SDKs): seconds, http_response_status_code.
    "otel-http": HttpPreset(
        "otel-http",
        "service_name",
        "http_server_request_duration_seconds",
        "http_server_request_duration_seconds_count",
        "http_response_status_code",
        "5..",
        _cpu("service_name"),
        service_from_target_info=True,
        description="OpenTelemetry HTTP semconv (stable): http_server_request_duration_seconds",
    ),
    # The conventions before 1.21, still the default of many SDKs (Python's included):
    # milliseconds, http_status_code.
    "otel-http-legacy": HttpPreset(
        "otel-http-legacy",
        "service_name",
        "http_server_duration_milliseconds",
        "http_server_duration_milliseconds_count",
        "http_status_code",
        "5..",
        _cpu("service_name"),
        service_from_target_info=True,
        description="OpenTelemetry HTTP semconv before 1.21: http_server_duration_milliseconds",
    ),
    "prometheus-http": HttpPreset(
        "prometheus-http",
        "job",
        "http_request_duration_seconds",
        "http_requests_total",
        "code",
        "5..",
        _cpu("job"),
        description="Prometheus client libraries: http_requests_total, "
        "http_request_duration_seconds",
    ),
    # The collector's spanmetrics connector: namespace traces.span.metrics (the default since
    # v0.85; collector_config/otelcol.yaml) or none (older configs), unit s or ms (the default).
    "spanmetrics": _spanmetrics(
        "spanmetrics", "traces_span_metrics_", "seconds",
        "spanmetrics connector, namespace traces.span.metrics, unit s (our collector config)",
    ),
    "spanmetrics-ms": _spanmetrics(
        "spanmetrics-ms", "traces_span_metrics_", "milliseconds",
        "spanmetrics connector, namespace traces.span.metrics, unit ms (its default)",
    ),
    "spanmetrics-bare": _spanmetrics(
        "spanmetrics-bare", "", "seconds", "spanmetrics without a namespace, unit s"
    ),
    "spanmetrics-bare-ms": _spanmetrics(
        "spanmetrics-bare-ms", "", "milliseconds", "spanmetrics without a namespace, unit ms"
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
