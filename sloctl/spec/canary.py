"""The ``canary:`` section of sloctl/v1 ``SLO`` and ``ServiceSLOs`` specs (see
``canary_layout``), as written and resolved for one service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from sloctl.spec.canary_layout import CanaryLayout
from sloctl.spec.fields import LabelName, ServiceName

SERVICE_PLACEHOLDER = "{service}"
Loc = tuple[str | int, ...]


class CanarySchema(BaseModel):
    """``canary: {label, canary, baseline}`` and/or ``{service, baselineService}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel)

    label: LabelName | None = None
    canary: str | None = None
    baseline: str | None = None
    service: ServiceName | None = None
    baseline_service: ServiceName | None = None


def resolve_canary(
    schema: CanarySchema | None, service: str, loc: Loc
) -> tuple[CanaryLayout | None, list[tuple[Loc, str]]]:
    """The layout of ``service`` (``{service}`` in service names replaced), or its problems."""
    if schema is None:
        return None, []
    problems: list[tuple[Loc, str]] = []
    if schema.label is None and schema.service is None:
        problems.append((loc, "set label (the label telling canary from baseline, e.g. version, "
                              "track or rollouts_pod_template_hash) or service (the canary's own "
                              "service name, e.g. podinfo-canary)"))
    for name in ("canary", "baseline"):
        if getattr(schema, name) is not None and schema.label is None:
            problems.append(((*loc, name), f"{name} is a value of label; set label too"))
    if problems:
        return None, problems

    def named(value: str | None) -> str | None:
        return None if value is None else value.replace(SERVICE_PLACEHOLDER, service)

    return CanaryLayout(
        schema.label, schema.canary, schema.baseline,
        named(schema.service), named(schema.baseline_service),
    ), []
