"""Load Sloth specs (``version: prometheus/v1`` and the ``PrometheusServiceLevel`` CRD).

Mapping: each of ``slos[]`` is one SLO of ``service``, over Sloth's default period (30 days),
with the group's and the SLO's labels. ``sli.events`` becomes a ``QueryRatio`` of its error and
total queries and ``sli.raw`` an error ratio (one "event" per window), both ungrouped: Sloth's
queries select the service's series themselves. ``{{.window}}`` becomes ``{{window}}``. Alerts
keep sloctl's identity (SLOBurnRatePage/Ticket): Sloth's ``alerting.name``, labels and
annotations are not carried; both ``page_alert`` and ``ticket_alert`` disabled turn alerting off.
"""

from __future__ import annotations

from sloctl.spec.documents import Loaded, Loc, SourceDocument, Spell
from sloctl.spec.models import QueryRatio, SLOSpec, Window
from sloctl.spec.query_templates import error_ratio, from_go_template
from sloctl.spec.sloth_schema import (
    CAMEL,
    SLO,
    SLOTH_API_VERSION,
    SLOTH_PERIOD,
    SLOTH_VERSION,
    CliSpec,
    CrdSpec,
    ServiceLevel,
)
from sloctl.spec.v1_resolve import DEFAULT_SERVICE_LABEL, Resolved


def load_sloth(doc: SourceDocument) -> Loaded:
    """The SLOs of one Sloth document (CLI format or CRD)."""
    crd = isinstance(doc.data, dict) and "apiVersion" in doc.data

    def spell(loc: Loc) -> Loc:  # the CRD spells the two-word fields in camelCase
        return tuple(CAMEL.get(p, p) if isinstance(p, str) else p for p in loc) if crd else loc

    out = Loaded()
    body: ServiceLevel | None
    base: Loc
    if crd:
        parsed_crd, out.problems = doc.parse(CrdSpec, doc.data, rename=CAMEL)
        body = parsed_crd.spec if parsed_crd else None
        base, spec_format = ("spec",), SLOTH_API_VERSION
    else:
        body, out.problems = doc.parse(CliSpec, doc.data)
        base, spec_format = (), SLOTH_VERSION
    if body is None:
        return out
    if not body.slos:
        out.problems.append(doc.problem((*base, "slos"), "list at least one SLO"))
    if body.slo_plugins:
        out.problems.append(doc.problem(spell((*base, "slo_plugins")), _PLUGINS))
    for index, slo in enumerate(body.slos):
        loc = (*base, "slos", index)
        before = len(out.problems)
        indicator = _indicator(slo, loc, doc, spell, out)
        alerting = _alerting(slo, loc, doc, spell, out)
        if slo.plugins:
            out.problems.append(doc.problem((*loc, "plugins"), _PLUGINS))
        if indicator is None or len(out.problems) > before:
            continue
        name_loc = (*loc, "name")
        spec = SLOSpec(
            service=body.service,
            name=slo.name,
            objective=slo.objective,
            window=Window(SLOTH_PERIOD),
            service_label=DEFAULT_SERVICE_LABEL,
            indicator=indicator,
            labels=tuple(sorted({**body.labels, **slo.labels}.items())),
            alerting=alerting,
            description=slo.description,
            spec_format=spec_format,
            source=doc.source,
            line=doc.line(name_loc),
        )
        out.resolved.append(Resolved(spec, name_loc))
    return out


_PLUGINS = (
    "Sloth SLO plugins are not supported: sloctl generates its own rules and cannot run Sloth's "
    "plugins; remove them (sloctl's rules are those of Sloth's default plugins)"
)


def _indicator(
    slo: SLO, loc: Loc, doc: SourceDocument, spell: Spell, out: Loaded
) -> QueryRatio | None:
    sli, at = slo.sli, (*loc, "sli")
    if sli.plugin is not None:
        out.problems.append(doc.problem(
            (*at, "plugin"),
            f"Sloth SLI plugins ({sli.plugin.id}) are not supported: sloctl cannot run Sloth's "
            "Go plugins; write the SLI as events (error_query and total_query) or raw "
            "(error_ratio_query) with the PromQL the plugin generates",
        ))
        return None
    if (sli.events is None) == (sli.raw is None):
        got = "both" if sli.events is not None else "neither"
        out.problems.append(doc.problem(
            at, f"set exactly one of events (error_query and total_query) or raw "
                f"(error_ratio_query); got {got}",
        ))
        return None
    if sli.raw is not None:
        ratio = _query(sli.raw.error_ratio_query, (*at, "raw", "error_ratio_query"), doc, spell,
                       out)
        return error_ratio(ratio) if ratio is not None else None
    assert sli.events is not None
    events = (*at, "events")
    bad = _query(sli.events.error_query, (*events, "error_query"), doc, spell, out)
    total = _query(sli.events.total_query, (*events, "total_query"), doc, spell, out)
    if bad is None or total is None:
        return None
    if bad == total:
        out.problems.append(doc.problem(
            spell((*events, "error_query")),
            "error_query and total_query are the same query; error_query counts the bad events "
            "only",
        ))
        return None
    return QueryRatio(total=total, bad=bad, good=None, ungrouped=True)


def _query(
    query: str | None, loc: Loc, doc: SourceDocument, spell: Spell, out: Loaded
) -> str | None:
    if query is None or not query.strip():
        name = spell(loc)[-1]
        out.problems.append(doc.problem(spell(loc), f"required field {name!r} is missing"))
        return None
    try:
        return from_go_template(query)
    except ValueError as exc:
        out.problems.append(doc.problem(spell(loc), str(exc)))
        return None


def _alerting(slo: SLO, loc: Loc, doc: SourceDocument, spell: Spell, out: Loaded) -> bool:
    """False when both alerts are disabled; one disabled alone is a warning (not supported)."""
    page, ticket = slo.alerting.page_alert, slo.alerting.ticket_alert
    page_off = page is not None and page.disable
    ticket_off = ticket is not None and ticket.disable
    if page_off and ticket_off:
        return False
    if page_off or ticket_off:
        which = "page_alert" if page_off else "ticket_alert"
        out.warnings.append(doc.problem(
            spell((*loc, "alerting", which, "disable")),
            "disabling one severity is not supported: sloctl keeps both the page and the "
            "ticket burn-rate alerts of this SLO; disable both to turn its alerting off",
        ))
    return True
