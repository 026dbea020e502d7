"""Resolve validated sloctl/v1 documents into ``SLOSpec`` values, checking cross-field rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sloctl.core.maintenance import Maintenance
from sloctl.spec.canary import CanarySchema, resolve_canary
from sloctl.spec.canary_layout import CanaryLayout
from sloctl.spec.fields import matchers
from sloctl.spec.models import (
    HistogramLatency,
    Indicator,
    LogRatio,
    MetricRatio,
    QueryRatio,
    SLOSpec,
    unit_of,
)
from sloctl.spec.presets import get_preset, split_indicator_preset
from sloctl.spec.v1_schema import Indicator as IndicatorSchema
from sloctl.spec.v1_schema import (
    LatencyIndicator,
    LogsIndicator,
    MaintenanceWindow,
    RatioIndicator,
    ServiceSLOsDocument,
    SLODocument,
)

Loc = tuple[str | int, ...]
LineOf = Callable[[Loc], int]
DEFAULT_SERVICE_LABEL = "service"
DEFAULT_LOG_SERVICE_LABEL = "service_name"  # Loki's label for OTLP service.name
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


@dataclass(frozen=True)
class Issue:
    """A problem found while resolving, located by its pydantic-style ``loc``."""

    loc: Loc
    message: str


@dataclass(frozen=True)
class Resolved:
    """One resolved SLO and where it was defined (for duplicate-id reports)."""

    spec: SLOSpec
    loc: Loc


def resolve_document(
    document: SLODocument | ServiceSLOsDocument, source: str, line_of: LineOf
) -> tuple[list[Resolved], list[Issue]]:
    """The SLOs a document defines, or the issues that prevent defining them."""
    if isinstance(document, SLODocument):
        return _resolve_slo(document, source, line_of)
    return _resolve_service_slos(document, source, line_of)


def _resolve_slo(
    doc: SLODocument, source: str, line_of: LineOf
) -> tuple[list[Resolved], list[Issue]]:
    issues: list[Issue] = []
    spec = doc.spec
    indicator = _indicator(spec.indicator, ("spec", "indicator"), issues)
    maintenance = _maintenance(spec.maintenance, issues)
    canary = _canary(spec.canary, spec.service, issues)
    if indicator is None or issues:
        return [], issues
    preset_label = None
    preset_join = False
    preset_name = ""
    if spec.indicator.preset is not None:
        preset = split_indicator_preset(spec.indicator.preset)[0]
        preset_label, preset_join = preset.service_label, preset.service_from_target_info
        preset_name = preset.name
    elif spec.indicator.logs is not None:
        preset_label = DEFAULT_LOG_SERVICE_LABEL
    if spec.service_from is not None and spec.indicator.logs is not None:
        issues.append(
            Issue(("spec", "serviceFrom"), "log-based SLIs read the Loki stream label; remove it")
        )
        return [], issues
    loc: Loc = ("metadata", "name")
    slo = SLOSpec(
        service=spec.service,
        name=doc.metadata.name,
        objective=spec.objective,
        window=spec.window,
        service_label=spec.service_label or preset_label or DEFAULT_SERVICE_LABEL,
        indicator=indicator,
        labels=tuple(sorted(doc.metadata.labels.items())),
        service_from_target_info=_from_target_info(spec.service_from, preset_join),
        preset=preset_name,
        maintenance=maintenance,
        canary=canary,
        alerting=spec.alerting.enabled,
        description=spec.description,
        source=source,
        line=line_of(loc),
    )
    return [Resolved(slo, loc)], []


def _maintenance(windows: list[MaintenanceWindow], issues: list[Issue]) -> tuple[Maintenance, ...]:
    """The spec's maintenance windows (they apply to the SLOs of the document that lists them)."""
    out = []
    for index, w in enumerate(windows):
        if w.end <= w.start:
            issues.append(Issue(("spec", "maintenance", index, "end"),
                                f"must be after start ({w.start.isoformat()}); got "
                                f"{w.end.isoformat()}"))
            continue
        out.append(Maintenance(w.start, w.end, w.reason))
    return tuple(out)


def _canary(schema: CanarySchema | None, service: str, issues: list[Issue]) -> CanaryLayout | None:
    """The spec's canary layout for ``service`` (issues located under spec.canary)."""
    layout, problems = resolve_canary(schema, service, ("spec", "canary"))
    issues += [Issue(loc, message) for loc, message in problems]
    return layout


def _from_target_info(service_from: str | None, preset_default: bool) -> bool:
    """``serviceFrom`` when given, else the preset's default (False without a preset)."""
    return preset_default if service_from is None else service_from == "target_info"


UNITS = {"s": 1.0, "ms": 0.001, "us": 0.000001, "ns": 0.000000001}


def _indicator(ind: IndicatorSchema, loc: Loc, issues: list[Issue]) -> Indicator | None:
    kinds = ("preset", "ratio", "latency", "logs")
    chosen = [name for name in kinds if getattr(ind, name) is not None]
    if len(chosen) != 1:
        got = "none" if not chosen else " and ".join(chosen)
        issues.append(
            Issue(
                loc,
                f"set exactly one of preset, ratio or latency; got {got} (for a log-based SLI "
                "from Loki, set logs alone)",
            )
        )
        return None
    if ind.preset is None:
        for extra in ("threshold", "selector"):
            if getattr(ind, extra) is not None:
                issues.append(
                    Issue(
                        (*loc, extra),
                        f"{extra} here only applies to a preset; move it inside {chosen[0]}:",
                    )
                )
    if ind.ratio is not None:
        return _ratio(ind.ratio, (*loc, "ratio"), issues)
    if ind.latency is not None:
        return _latency(ind.latency, (*loc, "latency"), issues)
    if ind.logs is not None:
        return _logs(ind.logs, (*loc, "logs"), issues)
    assert ind.preset is not None
    preset, kind = split_indicator_preset(ind.preset)
    selector = matchers(ind.selector)
    if kind == "availability":
        if ind.threshold is not None:
            issues.append(
                Issue(
                    (*loc, "threshold"),
                    f"threshold only applies to latency presets (e.g. {preset.name}-latency); "
                    "remove it",
                )
            )
        return preset.availability(selector)
    if ind.threshold is None:
        return preset.latency(selector=selector)
    return preset.latency(ind.threshold, selector)


def _ratio(ratio: RatioIndicator, loc: Loc, issues: list[Issue]) -> Indicator | None:
    structured = any(v is not None for v in (ratio.metric, ratio.selector, ratio.errors))
    raw = any(v is not None for v in (ratio.total_query, ratio.error_query, ratio.good_query))
    if structured and raw:
        issues.append(
            Issue(
                loc,
                "use either metric + errors (+ selector) or totalQuery + errorQuery/goodQuery "
                "(raw PromQL), not both",
            )
        )
        return None
    if raw:
        return _query_ratio(ratio, loc, issues)
    if not structured:
        issues.append(
            Issue(
                loc,
                "set metric and errors, e.g. {metric: http_requests_total, errors: "
                '{code: {regex: "5.."}}}, or totalQuery and errorQuery/goodQuery',
            )
        )
        return None
    before = len(issues)
    if ratio.metric is None:
        issues.append(
            Issue((*loc, "metric"), "required: the counter of all events, e.g. http_requests_total")
        )
    if not ratio.errors:
        issues.append(
            Issue(
                (*loc, "errors"),
                'required: the matchers that mark bad events, e.g. {code: {regex: "5.."}}',
            )
        )
    if len(issues) > before or ratio.metric is None:
        return None
    return MetricRatio(ratio.metric, matchers(ratio.selector), matchers(ratio.errors))


def _query_ratio(ratio: RatioIndicator, loc: Loc, issues: list[Issue]) -> Indicator | None:
    before = len(issues)
    if ratio.total_query is None:
        issues.append(Issue((*loc, "totalQuery"), "required with errorQuery or goodQuery"))
    if (ratio.error_query is None) == (ratio.good_query is None):
        where = (*loc, "goodQuery") if ratio.good_query is not None else loc
        issues.append(Issue(where, "set exactly one of errorQuery (bad events) or goodQuery"))
    if len(issues) > before or ratio.total_query is None:
        return None
    return QueryRatio(ratio.total_query, ratio.error_query, ratio.good_query)


def _latency(latency: LatencyIndicator, loc: Loc, issues: list[Issue]) -> Indicator | None:
    for suffix in _HISTOGRAM_SUFFIXES:
        if latency.metric.endswith(suffix):
            base = latency.metric.removesuffix(suffix)
            issues.append(
                Issue(
                    (*loc, "metric"),
                    f"use the histogram's base name without {suffix}, e.g. {base}",
                )
            )
            return None
    unit = UNITS[latency.unit] if latency.unit is not None else unit_of(latency.metric)
    if unit is None:
        issues.append(
            Issue(
                (*loc, "unit"),
                f"cannot tell the unit of histogram {latency.metric} from its name (no _seconds "
                "or _milliseconds suffix); set unit: s or unit: ms",
            )
        )
        return None
    return HistogramLatency(latency.metric, matchers(latency.selector), latency.threshold, unit)


def _logs(logs: LogsIndicator, loc: Loc, issues: list[Issue]) -> Indicator | None:
    if (logs.error_filter is None) == (logs.error_regex is None):
        where = (*loc, "errorRegex") if logs.error_regex is not None else loc
        issues.append(
            Issue(
                where,
                "set exactly one of errorFilter (text an error line contains, e.g. level=error) "
                'or errorRegex (e.g. "level=(error|fatal)")',
            )
        )
        return None
    return LogRatio(matchers(logs.selector), logs.error_filter, logs.error_regex)


def _resolve_service_slos(
    doc: ServiceSLOsDocument, source: str, line_of: LineOf
) -> tuple[list[Resolved], list[Issue]]:
    spec = doc.spec
    issues: list[Issue] = []
    if not spec.services:
        issues.append(Issue(("spec", "services"), "list at least one service, e.g. [order]"))
    first_index: dict[str, int] = {}
    for index, service in enumerate(spec.services):
        if service in first_index:
            issues.append(
                Issue(
                    ("spec", "services", index),
                    f"service {service!r} is listed twice (also spec.services"
                    f"[{first_index[service]}]); remove one",
                )
            )
        first_index.setdefault(service, index)
    maintenance = _maintenance(spec.maintenance, issues)
    canaries = {service: _canary(spec.canary, service, issues) for service in spec.services}
    if not spec.availability.enabled and not spec.latency.enabled:
        issues.append(
            Issue(("spec",), "availability and latency are both disabled; this defines no SLO")
        )
    if issues:
        return [], issues
    preset = get_preset(spec.preset)
    availability = preset.availability(matchers(spec.availability.selector))
    latency = preset.latency(spec.latency.threshold, matchers(spec.latency.selector))
    resolved: list[Resolved] = []
    for index, service in enumerate(spec.services):
        loc: Loc = ("spec", "services", index)
        base = SLOSpec(
            service=service,
            name="availability",
            objective=spec.availability.objective,
            window=spec.window,
            service_label=spec.service_label or preset.service_label,
            indicator=availability,
            labels=tuple(sorted(doc.metadata.labels.items())),
            service_from_target_info=_from_target_info(
                spec.service_from, preset.service_from_target_info
            ),
            preset=preset.name,
            maintenance=maintenance,
            canary=canaries[service],
            alerting=spec.alerting.enabled,
            description=f"{spec.availability.objective:g}% of {service} requests succeed",
            source=source,
            line=line_of(loc),
        )
        if spec.availability.enabled:
            resolved.append(Resolved(base, loc))
        if spec.latency.enabled:
            objective = spec.latency.objective
            text = f"{objective:g}% of {service} requests take at most {latency.threshold:g}s"
            slo = replace(
                base, name="latency", objective=objective, indicator=latency, description=text
            )
            resolved.append(Resolved(slo, loc))
    return resolved, []
