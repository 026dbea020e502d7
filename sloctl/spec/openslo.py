"""Load OpenSLO v1 documents (``apiVersion: openslo/v1``) of a whole file set into SLOs.

Mapping: one SLO per objective of each ``SLO`` document (named after it with one objective,
``<name>-<objective displayName or index>`` with several), for ``spec.service``, with the
``metadata.labels`` that are Prometheus label names (lists joined with ","). The indicator is
inline or an ``indicatorRef`` to an ``SLI`` document anywhere in the set (``openslo_indicator``).
``timeWindow``: a rolling duration (m, h, d, w) or the calendar month (``1M``, isRolling false);
none means sloctl's 28 days. ``objectives[].target`` (0..1) or ``targetPercent``. Only the
``Occurrences`` budgeting method. ``Service`` documents are accepted; ``DataSource``, the
alerting kinds and ``alertPolicies`` are accepted and ignored with a warning.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sloctl.errors import SpecProblem
from sloctl.spec.documents import Loaded, Loc, SourceDocument
from sloctl.spec.fields import LABEL_NAME_RE, check_objective, check_slo_name
from sloctl.spec.models import QueryRatio, SLOSpec, Window
from sloctl.spec.openslo_indicator import IndicatorReader
from sloctl.spec.openslo_schema import (
    IGNORED_KINDS,
    KINDS,
    OPENSLO_API_VERSION,
    DataSourceDocument,
    Document,
    Objective,
    SLIDocument,
    SLODocument,
    TimeWindow,
)
from sloctl.spec.v1_resolve import DEFAULT_SERVICE_LABEL, Resolved
from sloctl.spec.v1_schema import DEFAULT_WINDOW

_SHORTHAND = re.compile(r"([1-9][0-9]*)([mhdwMQY])")
_FIXED_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Parsed:
    """One validated OpenSLO document and where it came from."""

    doc: SourceDocument
    model: Document


def parse_openslo(doc: SourceDocument) -> tuple[Parsed | None, list[SpecProblem]]:
    """One ``openslo/v1`` document validated by its kind."""
    data = doc.data
    assert isinstance(data, dict)
    kind = data.get("kind")
    kinds = ", ".join(KINDS)
    if not isinstance(kind, str) or kind not in KINDS:
        message = (f"required field 'kind' is missing; use one of {kinds}" if kind is None
                   else f"unknown kind {kind!r}; {OPENSLO_API_VERSION} kinds are {kinds}")
        return None, [doc.problem(("kind",), message)]
    model, problems = doc.parse(KINDS[kind], data)
    return (Parsed(doc, model) if model is not None else None), problems


def resolve_openslo(documents: Sequence[Parsed]) -> Loaded:
    """The SLOs of every ``SLO`` document, their SLIs looked up in the whole set."""
    out = Loaded()
    slis = _unique(documents, SLIDocument, "SLI", out)
    data_sources = _unique(documents, DataSourceDocument, "DataSource", out)
    for parsed in documents:
        model, doc = parsed.model, parsed.doc
        if isinstance(model, SLODocument):
            out.add(_resolve_slo(model, doc, slis, data_sources))
        elif model.kind in IGNORED_KINDS:
            out.warnings.append(doc.problem(
                ("kind",),
                f"kind {model.kind} is accepted and ignored: sloctl alerts with its own "
                "multiwindow multi-burn-rate rules (SLOBurnRatePage, SLOBurnRateTicket)",
            ))
        elif isinstance(model, DataSourceDocument):
            out.warnings.append(doc.problem(
                ("spec",),
                f"DataSource {model.metadata.name!r} is accepted, its connection details are "
                "ignored: sloctl queries the Prometheus of its settings (prometheus.url)",
            ))
    out.problems = list(dict.fromkeys(out.problems))  # an SLI shared by several SLOs
    return out


Named = TypeVar("Named", SLIDocument, DataSourceDocument)


def _unique(
    documents: Sequence[Parsed], kind: type[Named], name: str, out: Loaded
) -> dict[str, tuple[Named, SourceDocument]]:
    found: dict[str, list[tuple[Named, SourceDocument]]] = defaultdict(list)
    for parsed in documents:
        if isinstance(parsed.model, kind):
            found[parsed.model.metadata.name].append((parsed.model, parsed.doc))
    for key, items in found.items():
        if len(items) > 1:
            for _, doc in items:
                others = ", ".join(f"{d.source}:{d.line(('metadata', 'name'))}"
                                   for _, d in items if d is not doc)
                out.problems.append(doc.problem(
                    ("metadata", "name"),
                    f"{name} {key!r} is defined twice (also at {others}); names must be unique",
                ))
    return {key: items[0] for key, items in found.items() if len(items) == 1}


def _resolve_slo(
    slo: SLODocument,
    doc: SourceDocument,
    slis: Mapping[str, tuple[SLIDocument, SourceDocument]],
    data_sources: Mapping[str, tuple[DataSourceDocument, SourceDocument]],
) -> Loaded:
    out = Loaded()
    spec = slo.spec
    try:
        check_slo_name(slo.metadata.name)
    except ValueError as exc:
        out.problems.append(doc.problem(("metadata", "name"), str(exc)))
    if spec.budgeting_method != "Occurrences":
        out.problems.append(doc.problem(
            ("spec", "budgetingMethod"),
            f"budgetingMethod {spec.budgeting_method} is not supported: sloctl counts events "
            "(Occurrences: good events over all events in the window); time-slice budgets "
            "judge each slice separately. Use Occurrences",
        ))
    sources = {key: source for key, (source, _) in data_sources.items()}
    indicator, description = _indicator(slo, doc, slis, sources, out)
    window = _window(spec.time_window, doc, out)
    objectives = _objectives(slo, doc, out)
    if spec.alert_policies:
        out.warnings.append(doc.problem(
            ("spec", "alertPolicies"),
            "alertPolicies are ignored: sloctl alerts with its own multiwindow multi-burn-rate "
            "rules (SLOBurnRatePage, SLOBurnRateTicket)",
        ))
    labels = _labels(slo, doc, out)
    if out.problems or indicator is None or window is None:
        return out
    for name, percent, loc in objectives:
        line_loc = loc if len(objectives) > 1 else ("metadata", "name")
        spec_value = SLOSpec(
            service=spec.service,
            name=name,
            objective=percent,
            window=window,
            service_label=DEFAULT_SERVICE_LABEL,
            indicator=indicator,
            labels=labels,
            description=spec.description or description,
            spec_format=OPENSLO_API_VERSION,
            source=doc.source,
            line=doc.line(line_loc),
        )
        out.resolved.append(Resolved(spec_value, line_loc))
    return out


def _indicator(
    slo: SLODocument,
    doc: SourceDocument,
    slis: Mapping[str, tuple[SLIDocument, SourceDocument]],
    data_sources: Mapping[str, DataSourceDocument],
    out: Loaded,
) -> tuple[QueryRatio | None, str]:
    spec = slo.spec
    if (spec.indicator is None) == (spec.indicator_ref is None):
        got = "both" if spec.indicator is not None else "neither"
        out.problems.append(doc.problem(
            ("spec",), f"set exactly one of indicator (inline SLI) or indicatorRef; got {got}"))
        return None, ""
    if spec.indicator is not None:
        reader = IndicatorReader(doc, data_sources)
        indicator = reader.indicator(spec.indicator.spec, ("spec", "indicator", "spec"))
        description = spec.indicator.spec.description
    else:
        assert spec.indicator_ref is not None
        found = slis.get(spec.indicator_ref)
        if found is None:
            out.problems.append(doc.problem(
                ("spec", "indicatorRef"),
                f"indicatorRef {spec.indicator_ref!r} names no SLI in the loaded files; define "
                f"kind: SLI with metadata.name: {spec.indicator_ref}, or inline the indicator",
            ))
            return None, ""
        sli, sli_doc = found
        reader = IndicatorReader(sli_doc, data_sources)
        indicator = reader.indicator(sli.spec, ("spec",))
        description = sli.spec.description
    out.problems += reader.problems
    return indicator, description


def _window(windows: list[TimeWindow], doc: SourceDocument, out: Loaded) -> Window | None:
    if not windows:
        return DEFAULT_WINDOW
    loc: Loc = ("spec", "timeWindow")
    if len(windows) != 1:
        out.problems.append(doc.problem(loc, "timeWindow takes exactly one item"))
        return None
    window, loc = windows[0], (*loc, 0)
    match = _SHORTHAND.fullmatch(window.duration)
    if match is None:
        out.problems.append(doc.problem(
            (*loc, "duration"),
            f"invalid duration {window.duration!r}; use a number and one of m, h, d, w, M, Q, "
            "Y, e.g. 28d, 4w or 1M",
        ))
        return None
    count, unit = int(match.group(1)), match.group(2)
    rolling = window.is_rolling if window.is_rolling is not None else window.calendar is None
    if rolling:
        if unit not in _FIXED_UNITS:
            out.problems.append(doc.problem(
                (*loc, "duration"),
                f"a rolling window needs a fixed length (m, h, d or w); {window.duration} "
                "varies: use e.g. 30d, or a calendar month (duration: 1M, isRolling: false)",
            ))
            return None
        return Window(count * _FIXED_UNITS[unit])
    if (count, unit) != (1, "M"):
        out.problems.append(doc.problem(
            (*loc, "duration"),
            f"calendar windows other than the month (1M) are not supported; got "
            f"{window.duration}: use duration: 1M, or a rolling window (isRolling: true)",
        ))
        return None
    if window.calendar is not None:
        out.warnings.append(doc.problem(
            (*loc, "calendar"),
            "calendar.startTime and timeZone are not used: sloctl's calendar months start on "
            "the 1st at 00:00 in its `timezone` setting",
        ))
    return Window(None, "month")


def _objectives(
    slo: SLODocument, doc: SourceDocument, out: Loaded
) -> list[tuple[str, float, Loc]]:
    """(SLO name, objective in percent, loc) of each objective."""
    objectives = slo.spec.objectives
    if not objectives:
        out.problems.append(doc.problem(("spec", "objectives"), "list at least one objective"))
    found: list[tuple[str, float, Loc]] = []
    for index, objective in enumerate(objectives):
        loc: Loc = ("spec", "objectives", index)
        percent = _percent(objective, loc, doc, out)
        _ignored_fields(objective, loc, doc, out)
        name = slo.metadata.name
        if len(objectives) > 1:
            suffix = _SLUG.sub("-", (objective.display_name or "").lower()).strip("-")
            name = f"{name}-{suffix or index}"
            try:
                check_slo_name(name)
            except ValueError as exc:
                where = (*loc, "displayName") if suffix else ("metadata", "name")
                out.problems.append(doc.problem(where, f"objective {index}: {exc}"))
                continue
        if percent is not None:
            found.append((name, percent, loc))
    return found


def _percent(objective: Objective, loc: Loc, doc: SourceDocument, out: Loaded) -> float | None:
    if (objective.target is None) == (objective.target_percent is None):
        out.problems.append(doc.problem(
            loc, "set exactly one of target (a ratio, e.g. 0.995) or targetPercent (e.g. 99.5)"))
        return None
    if objective.target is not None:
        if not 0 < objective.target < 1:
            out.problems.append(doc.problem(
                (*loc, "target"),
                f"target must be a ratio between 0 and 1 (exclusive), e.g. 0.995; got "
                f"{objective.target:g}",
            ))
            return None
        return float(Decimal(str(objective.target)) * 100)
    assert objective.target_percent is not None
    try:
        return check_objective(objective.target_percent)
    except ValueError as exc:
        out.problems.append(doc.problem((*loc, "targetPercent"), str(exc)))
        return None


def _ignored_fields(objective: Objective, loc: Loc, doc: SourceDocument, out: Loaded) -> None:
    if any(v is not None for v in
           (objective.indicator, objective.indicator_ref, objective.composite_weight)):
        out.problems.append(doc.problem(
            loc, "composite objectives (indicator, indicatorRef or compositeWeight in an "
                 "objective) are not supported; use one SLO per indicator"))
    if objective.op is not None or objective.value is not None:
        out.warnings.append(doc.problem(
            (*loc, "op" if objective.op is not None else "value"),
            "op and value apply to thresholdMetric SLIs only; ignored"))
    if objective.time_slice_target is not None or objective.time_slice_window is not None:
        field = "timeSliceTarget" if objective.time_slice_target is not None else "timeSliceWindow"
        out.warnings.append(doc.problem(
            (*loc, field), "timeSliceTarget and timeSliceWindow apply to Timeslices budgets "
                           "only; ignored"))


def _labels(slo: SLODocument, doc: SourceDocument, out: Loaded) -> tuple[tuple[str, str], ...]:
    labels: dict[str, str] = {}
    for key, value in slo.metadata.labels.items():
        if not LABEL_NAME_RE.fullmatch(key) or key.startswith("__"):
            out.warnings.append(doc.problem(
                ("metadata", "labels", key),
                f"label {key!r} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not "
                "starting with __); not kept",
            ))
            continue
        labels[key] = value if isinstance(value, str) else ",".join(value)
    return tuple(sorted(labels.items()))
