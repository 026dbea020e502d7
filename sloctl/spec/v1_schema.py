"""The ``apiVersion: sloctl/v1`` document schema (kinds ``SLO`` and ``ServiceSLOs``), as written.

Field names are camelCase in YAML. These models only check shape and single fields; rules that
span fields (exactly one indicator, ...) live in ``v1_resolve``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from sloctl.spec.canary import CanarySchema
from sloctl.spec.fields import (
    Description,
    IndicatorPresetName,
    LabelName,
    LineFilterRegex,
    LineFilterText,
    MetricName,
    Objective,
    PresetName,
    QueryTemplate,
    Selector,
    ServiceName,
    SloName,
    Threshold,
    WindowSpec,
)
from sloctl.spec.models import Window

API_VERSION = "sloctl/v1"
DEFAULT_WINDOW = Window(28 * 86400)


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel)


class Metadata(_Schema):
    name: SloName
    labels: dict[LabelName, str] = {}


class RatioIndicator(_Schema):
    """Structured (metric + errors) or raw PromQL (totalQuery + errorQuery or goodQuery)."""

    metric: MetricName | None = None
    selector: Selector | None = None
    errors: Selector | None = None
    total_query: QueryTemplate | None = None
    error_query: QueryTemplate | None = None
    good_query: QueryTemplate | None = None


HistogramUnit = Literal["s", "ms", "us", "ns"]
ServiceFrom = Literal["series", "target_info"]


class LatencyIndicator(_Schema):
    metric: MetricName
    threshold: Threshold
    selector: Selector = {}
    unit: HistogramUnit | None = None  # default: from the name (_seconds, _milliseconds, ...)


class LogsIndicator(_Schema):
    """Log-based SLI from Loki: lines of ``selector``; bad lines match errorFilter or errorRegex."""

    selector: Selector = {}
    error_filter: LineFilterText | None = None
    error_regex: LineFilterRegex | None = None


class Indicator(_Schema):
    preset: IndicatorPresetName | None = None
    threshold: Threshold | None = None
    selector: Selector | None = None
    ratio: RatioIndicator | None = None
    latency: LatencyIndicator | None = None
    logs: LogsIndicator | None = None


class Alerting(_Schema):
    enabled: bool = True


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(
            "write the time with its offset, e.g. 2026-12-01T02:00:00Z or 2026-12-01T03:00+01:00"
        )
    return value


AwareTime = Annotated[datetime, AfterValidator(_aware)]


class MaintenanceWindow(_Schema):
    """A planned outage: its events are left out of attainment and budget."""

    start: AwareTime
    end: AwareTime
    reason: Description = ""


class SLOSpecBody(_Schema):
    service: ServiceName
    description: Description = ""
    objective: Objective
    window: WindowSpec = DEFAULT_WINDOW
    service_label: LabelName | None = None
    service_from: ServiceFrom | None = None
    indicator: Indicator
    alerting: Alerting = Alerting()
    maintenance: list[MaintenanceWindow] = []
    canary: CanarySchema | None = None  # how its canary's series differ (sloctl canary)


class SLODocument(_Schema):
    api_version: Literal["sloctl/v1"]
    kind: Literal["SLO"]
    metadata: Metadata
    spec: SLOSpecBody


class AvailabilityDefaults(_Schema):
    enabled: bool = True
    objective: Objective = 99.5
    selector: Selector = {}


class LatencyDefaults(_Schema):
    enabled: bool = True
    objective: Objective = 95.0
    threshold: Threshold = 0.3
    selector: Selector = {}


class ServiceSLOsMetadata(_Schema):
    labels: dict[LabelName, str] = {}


class ServiceSLOsBody(_Schema):
    preset: PresetName = "otel-http"
    services: list[ServiceName]
    window: WindowSpec = DEFAULT_WINDOW
    service_label: LabelName | None = None
    service_from: ServiceFrom | None = None
    availability: AvailabilityDefaults = AvailabilityDefaults()
    latency: LatencyDefaults = LatencyDefaults()
    alerting: Alerting = Alerting()
    maintenance: list[MaintenanceWindow] = []
    canary: CanarySchema | None = None  # how their canaries' series differ (sloctl canary)


class ServiceSLOsDocument(_Schema):
    api_version: Literal["sloctl/v1"]
    kind: Literal["ServiceSLOs"]
    metadata: ServiceSLOsMetadata = ServiceSLOsMetadata()
    spec: ServiceSLOsBody


KINDS: dict[str, type[SLODocument] | type[ServiceSLOsDocument]] = {
    "SLO": SLODocument,
    "ServiceSLOs": ServiceSLOsDocument,
}
