"""Sloth's spec formats, as written: the CLI's ``version: prometheus/v1`` and the Kubernetes CRD
``apiVersion: sloth.slok.dev/v1, kind: PrometheusServiceLevel`` (same fields under ``spec``).

The CLI format spells fields in snake_case (``error_query``, ``page_alert``), the CRD in
camelCase (``errorQuery``, ``pageAlert``); both spellings are accepted in both.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from sloctl.spec.fields import Description, LabelName, Objective, ServiceName, SloName

SLOTH_VERSION = "prometheus/v1"
SLOTH_API_VERSION = "sloth.slok.dev/v1"
SLOTH_KIND = "PrometheusServiceLevel"
SLOTH_PERIOD = 30 * 86400  # Sloth's default SLO period (--default-slo-period)
# Fields spelled differently in the two formats: snake_case (CLI) -> camelCase (CRD).
CAMEL = {
    name: to_camel(name)
    for name in (
        "error_query", "total_query", "error_ratio_query", "page_alert", "ticket_alert",
        "slo_plugins",
    )
}


def _either(name: str) -> Any:
    """A field read from its snake_case or its camelCase spelling."""
    return Field(default=None, validation_alias=AliasChoices(name, CAMEL[name]))


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alert(_Schema):
    disable: bool = False
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class Alerting(_Schema):
    name: str | None = None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    page_alert: Alert | None = _either("page_alert")
    ticket_alert: Alert | None = _either("ticket_alert")


class Events(_Schema):
    error_query: str | None = _either("error_query")
    total_query: str | None = _either("total_query")


class Raw(_Schema):
    error_ratio_query: str | None = _either("error_ratio_query")


class Plugin(_Schema):
    id: str
    options: dict[str, Any] = {}


class SLI(_Schema):
    events: Events | None = None
    raw: Raw | None = None
    plugin: Plugin | None = None


class SLO(_Schema):
    name: SloName
    objective: Objective
    description: Description = ""
    labels: dict[LabelName, str] = {}
    sli: SLI
    alerting: Alerting = Alerting()
    plugins: dict[str, Any] | None = None


class ServiceLevel(_Schema):
    """The body shared by both formats: one service and its SLOs."""

    service: ServiceName
    labels: dict[LabelName, str] = {}
    slos: list[SLO]
    slo_plugins: dict[str, Any] | None = _either("slo_plugins")


class CliSpec(ServiceLevel):
    version: Literal["prometheus/v1"]


class CrdSpec(_Schema):
    api_version: Literal["sloth.slok.dev/v1"] = Field(alias="apiVersion")
    kind: Literal["PrometheusServiceLevel"]
    metadata: dict[str, Any] = {}
    spec: ServiceLevel
    status: dict[str, Any] | None = None
