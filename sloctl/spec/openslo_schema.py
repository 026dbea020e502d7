"""The OpenSLO v1 documents sloctl reads (``apiVersion: openslo/v1``), as written (camelCase).

``SLO``, ``SLI``, ``Service`` and ``DataSource`` are checked field by field; the alerting kinds
(``AlertPolicy``, ``AlertCondition``, ``AlertNotificationTarget``) only need a name: sloctl
accepts and ignores them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from sloctl.spec.fields import Description, ServiceName

OPENSLO_API_VERSION = "openslo/v1"
IGNORED_KINDS = ("AlertPolicy", "AlertCondition", "AlertNotificationTarget")
BudgetingMethod = Literal["Occurrences", "Timeslices", "RatioTimeslices"]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel)


class Metadata(_Schema):
    name: str = Field(min_length=1)
    display_name: str | None = None
    labels: dict[str, str | list[str]] = {}
    annotations: dict[str, str] = {}


class MetricSource(_Schema):
    metric_source_ref: str | None = None
    type: str | None = None
    spec: dict[str, Any] = {}


class MetricSpec(_Schema):
    metric_source: MetricSource


class RatioMetric(_Schema):
    counter: bool | None = None
    good: MetricSpec | None = None
    bad: MetricSpec | None = None
    total: MetricSpec | None = None
    raw_type: Literal["success", "failure"] | None = None
    raw: MetricSpec | None = None


class SLISpec(_Schema):
    description: Description = ""
    threshold_metric: MetricSpec | None = None
    ratio_metric: RatioMetric | None = None


class InlineSLI(_Schema):
    metadata: Metadata
    spec: SLISpec


class Calendar(_Schema):
    start_time: str | date
    time_zone: str


class TimeWindow(_Schema):
    duration: str
    is_rolling: bool | None = None
    calendar: Calendar | None = None


class Objective(_Schema):
    display_name: str | None = None
    op: str | None = None
    value: float | None = None
    target: float | None = None
    target_percent: float | None = None
    time_slice_target: float | None = None
    time_slice_window: str | int | None = None
    indicator: dict[str, Any] | None = None
    indicator_ref: str | None = None
    composite_weight: float | None = None


class SLOSpec(_Schema):
    description: Description = ""
    service: ServiceName
    indicator: InlineSLI | None = None
    indicator_ref: str | None = None
    time_window: list[TimeWindow] = []
    budgeting_method: BudgetingMethod
    objectives: list[Objective]
    alert_policies: list[Any] = []


class SLODocument(_Schema):
    api_version: Literal["openslo/v1"]
    kind: Literal["SLO"]
    metadata: Metadata
    spec: SLOSpec


class SLIDocument(_Schema):
    api_version: Literal["openslo/v1"]
    kind: Literal["SLI"]
    metadata: Metadata
    spec: SLISpec


class ServiceSpec(_Schema):
    description: Description = ""


class ServiceDocument(_Schema):
    api_version: Literal["openslo/v1"]
    kind: Literal["Service"]
    metadata: Metadata
    spec: ServiceSpec = ServiceSpec()


class DataSourceSpec(_Schema):
    description: Description = ""
    type: str
    connection_details: Any = None


class DataSourceDocument(_Schema):
    api_version: Literal["openslo/v1"]
    kind: Literal["DataSource"]
    metadata: Metadata
    spec: DataSourceSpec


class IgnoredDocument(BaseModel):
    """An alerting kind: its metadata is checked, the rest is kept as written and unused."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    api_version: Literal["openslo/v1"] = Field(alias="apiVersion")
    kind: Literal["AlertPolicy", "AlertCondition", "AlertNotificationTarget"]
    metadata: Metadata


Document = SLODocument | SLIDocument | ServiceDocument | DataSourceDocument | IgnoredDocument
KINDS: dict[str, type[Document]] = {
    "SLO": SLODocument,
    "SLI": SLIDocument,
    "Service": ServiceDocument,
    "DataSource": DataSourceDocument,
    **dict.fromkeys(IGNORED_KINDS, IgnoredDocument),
}
