"""The scorecard of one scope over one period, from the stored inputs alone (pure).

    card = build_scorecard(inputs, ORGANISATION, tz)          # or Scope(TEAM, "payments")
    scopes(inputs)                                            # every scope with SLOs, and notes

Statuses (``Thresholds``): INSUFFICIENT_DATA when no event could be counted in the period (with
the reason, never 100 %); BREACHED when the budget of the SLO's own window is exhausted at the
period's end; WARNING when less than ``warning_budget_left`` of it is left or the period burned
faster than ``warning_burn_rate``; else OK. Combined figures are Grafana's: over all the events
of the scope's SLOs, each SLO's weighted impact its share of the bad events. DORA figures are
the stored scorecards'. Nothing here reads a clock, a file or the network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from sloctl.core.evaluation import NOTE_PREFIX
from sloctl.core.signals import Signal
from sloctl.dora.compute import Figure, Scorecard, percentile
from sloctl.dora.levels import Metric
from sloctl.report.inputs import (
    FailedDeployment,
    PeriodFigures,
    ReportInputs,
    SloFigures,
    Thresholds,
)
from sloctl.report.scorecard import (
    ORGANISATION,
    STATUS_ORDER,
    Change,
    ChangeItem,
    Combined,
    DoraLine,
    IncidentLine,
    Incidents,
    Kpi,
    PeriodScorecard,
    Scope,
    ScopeKind,
    ServiceLine,
    SignalLine,
    SloLine,
    Status,
    TeamLine,
)

DORA_TITLES = {
    Metric.DEPLOYMENT_FREQUENCY: "Deployment frequency",
    Metric.LEAD_TIME: "Lead time for changes",
    Metric.CHANGE_FAILURE_RATE: "Change failure rate",
    Metric.RECOVERY_TIME: "Failed deployment recovery time",
    Metric.TIME_TO_RESTORE: "Time to restore (incidents)",
    Metric.REWORK_RATE: "Rework rate (beta)",
}
LOWER_IS_BETTER = {Metric.LEAD_TIME, Metric.CHANGE_FAILURE_RATE, Metric.RECOVERY_TIME,
                   Metric.TIME_TO_RESTORE, Metric.REWORK_RATE}
SIGNALS = (Signal.TRAFFIC, Signal.ERROR_RATIO, Signal.LATENCY_P95, Signal.LATENCY_P99)
CHANGE_TOLERANCE = 1e-9  # below this a change is counting noise (extrapolated counters)
DROP_AT_LEAST = 0.001  # "what changed" lists budget drops of at least 0.1 pp


# -- small helpers -------------------------------------------------------------------------------

def change(value: float | None, previous: float | None, higher_is_better: bool | None) -> Change:
    """``value`` against ``previous``; ``higher_is_better`` None: no direction (traffic)."""
    if value is None or previous is None:
        return Change(previous, None, None)
    delta = value - previous
    if math.isclose(value, previous, rel_tol=1e-9, abs_tol=CHANGE_TOLERANCE):
        return Change(previous, 0.0, "same")
    if higher_is_better is None:
        return Change(previous, delta, "up" if delta > 0 else "down")
    better = (delta > 0) == higher_is_better
    return Change(previous, delta, "better" if better else "worse")


def slo_status(f: SloFigures, t: Thresholds) -> tuple[Status, str]:
    """The status of one SLO over the period, and why (see the module docstring)."""
    if f.sli is None or not f.total:
        return Status.INSUFFICIENT_DATA, f.no_data_reason or "no events counted in the period"
    left = f.budget_left
    if left is not None and left <= 0:
        return Status.BREACHED, f"error budget of its {f.window} window exhausted"
    if left is not None and left < t.warning_budget_left:
        return Status.WARNING, (f"less than {t.warning_budget_left * 100:g} % of its {f.window} "
                                "budget left")
    if f.burn_rate is not None and f.burn_rate > t.warning_burn_rate:
        return Status.WARNING, (f"burned its budget {f.burn_rate:.2f}x faster than sustainable "
                                "over the period")
    if left is None:
        return Status.OK, f"within objective over the period; its {f.window} budget is unknown"
    return Status.OK, "within objective and budget"


def _sum(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def combine(figures: Sequence[SloFigures]) -> tuple[float | None, float | None, float | None]:
    """(SLI, events-weighted objective, budget left of the period) over the counted SLOs."""
    counted = [f for f in figures if f.total and f.bad is not None and f.sli is not None]
    total = sum(f.total or 0.0 for f in counted)
    if not counted or total <= 0:
        return None, None, None
    bad = sum(f.bad or 0.0 for f in counted)
    objective = sum((f.total or 0.0) * f.objective for f in counted) / total
    allowed = sum((f.total or 0.0) * (1 - f.objective) for f in counted)
    return 1 - bad / total, objective, (1 - bad / allowed) if allowed > 0 else None


def _figure_value(card: Scorecard | None, metric: Metric) -> Figure | None:
    if card is None:
        return None
    return next((f for f in card.figures if f.metric == metric), None)


# -- the scope -----------------------------------------------------------------------------------

def service_teams(inputs: ReportInputs) -> dict[str, str | None]:
    """Each service's team: the ``team`` label of its SLOs (the first one seen)."""
    teams: dict[str, str | None] = {}
    for f in inputs.current.slos:
        if teams.get(f.service) is None:
            teams[f.service] = f.team
    return teams


def scopes(inputs: ReportInputs) -> tuple[tuple[Scope, ...], tuple[str, ...]]:
    """The organisation, every team with SLOs and every service; and the notes on what was
    left out (teams without SLOs, services without a team)."""
    teams = service_teams(inputs)
    with_slos = sorted({t for t in teams.values() if t is not None})
    notes = []
    for team in sorted(set(inputs.teams) - set(with_slos)):
        notes.append(f"team {team} has no SLOs (no spec carries the label team: {team}): "
                     "left out of the team scorecards")
    lonely = sorted(s for s, t in teams.items() if t is None)
    if lonely:
        notes.append(f"{len(lonely)} service(s) without a team label count for the organisation "
                     f"only: {', '.join(lonely)}")
    found = (ORGANISATION, *(Scope(ScopeKind.TEAM, t) for t in with_slos),
             *(Scope(ScopeKind.SERVICE, s) for s in sorted(teams)))
    return found, tuple(notes)


def _in_scope(scope: Scope, f: SloFigures) -> bool:
    if scope.kind is ScopeKind.TEAM:
        return f.team == scope.name
    if scope.kind is ScopeKind.SERVICE:
        return f.service == scope.name
    return True


def _services_of(scope: Scope, inputs: ReportInputs) -> list[str]:
    teams = service_teams(inputs)
    return sorted(s for s, t in teams.items()
                  if scope.kind is ScopeKind.ORGANISATION
                  or (scope.kind is ScopeKind.TEAM and t == scope.name)
                  or (scope.kind is ScopeKind.SERVICE and s == scope.name))


def _dora_key(scope: Scope, cards: Mapping[str, Scorecard]) -> str:
    if scope.kind is ScopeKind.ORGANISATION:
        return "organisation"
    if scope.kind is ScopeKind.TEAM:
        return f"team {scope.name}"
    keys = sorted(k for k in cards if k.startswith(f"{scope.name}/"))
    return keys[0] if keys else f"{scope.name}/"


# -- the parts -----------------------------------------------------------------------------------

def _slo_lines(inputs: ReportInputs, scope: Scope) -> tuple[SloLine, ...]:
    t = inputs.thresholds
    current = [f for f in inputs.current.slos if _in_scope(scope, f)]
    previous = {f.slo_id: f for f in (inputs.previous.slos if inputs.previous else ())}
    history = [{f.slo_id: f for f in p.slos} for p in inputs.history]
    total = _sum([f.total for f in current if f.sli is not None])
    bad = _sum([f.bad for f in current if f.sli is not None])
    lines = []
    for f in current:
        status, reason = slo_status(f, t)
        before = previous.get(f.slo_id)
        counted = f.sli is not None and f.total
        lines.append(SloLine(
            slo_id=f.slo_id, service=f.service, name=f.name, team=f.team, tier=f.tier,
            kind=f.kind, window=f.window, objective=f.objective, attainment=f.sli,
            budget_spent=f.budget_spent, budget_left=f.budget_left, burn_rate=f.burn_rate,
            status=status, reason=reason, events=f.total, bad_events=f.bad,
            traffic_share=(f.total or 0.0) / total if counted and total else None,
            weighted_impact=(f.bad or 0.0) / bad if counted and bad else (0.0 if counted else None),
            attainment_change=change(f.sli, before.sli if before else None, True),
            budget_left_change=change(f.budget_left, before.budget_left if before else None, True),
            previous_status=slo_status(before, t)[0] if before else None,
            trend=tuple(h[f.slo_id].sli if f.slo_id in h else None for h in history),
        ))
    return tuple(sorted(lines, key=_severity))


def _severity(line: SloLine) -> tuple[int, float, str]:
    left = line.budget_left if line.budget_left is not None else math.inf
    return STATUS_ORDER.index(line.status), left, line.slo_id


def _combined(inputs: ReportInputs, scope: Scope, lines: Sequence[SloLine],
              kind: str | None = None) -> Combined:
    def chosen(p: PeriodFigures) -> list[SloFigures]:
        return [f for f in p.slos if _in_scope(scope, f) and (kind is None or f.kind == kind)]

    sli, objective, budget_left = combine(chosen(inputs.current))
    before = combine(chosen(inputs.previous))[0] if inputs.previous else None
    mine = [ln for ln in lines if kind is None or ln.kind == kind]
    return Combined(
        slos=len(mine),
        met=sum(1 for ln in mine if ln.status is Status.OK),
        breached=sum(1 for ln in mine if ln.status is Status.BREACHED),
        sli=sli, objective=objective, budget_left=budget_left,
        events=_sum([ln.events for ln in mine if ln.attainment is not None]),
        bad_events=_sum([ln.bad_events for ln in mine if ln.attainment is not None]),
        sli_change=change(sli, before, True),
        trend=tuple(combine(chosen(p))[0] for p in inputs.history),
    )


def _dora_lines(inputs: ReportInputs, scope: Scope) -> tuple[DoraLine, ...]:
    key = _dora_key(scope, inputs.dora_week)
    week, trailing = inputs.dora_week.get(key), inputs.dora_trailing.get(key)
    lines = []
    for metric, title in DORA_TITLES.items():
        w, tr = _figure_value(week, metric), _figure_value(trailing, metric)
        value = w.value if w else None
        unit = "per_day" if metric is Metric.DEPLOYMENT_FREQUENCY else (w.unit if w else "")
        goal = w.goal if w is not None else None
        if metric is Metric.DEPLOYMENT_FREQUENCY and w is not None:
            per_service = w.details.get("per_day_per_service")
            value = float(per_service) if isinstance(per_service, int | float) else None
            before = _per_service(inputs, key, w)
            unit = "per_day_per_service"
        else:
            before = w.previous if w else None
        trailing_value = tr.value if tr else None
        if metric is Metric.DEPLOYMENT_FREQUENCY and tr is not None:
            per_service = tr.details.get("per_day_per_service")
            trailing_value = float(per_service) if isinstance(per_service, int | float) else None
        lines.append(DoraLine(
            metric=metric.value, title=title, unit=unit or (w.unit if w else ""),
            week=value, week_n=w.n if w else 0,
            week_change=change(value, before, metric not in LOWER_IS_BETTER),
            trailing=trailing_value, trailing_n=tr.n if tr else 0,
            level=tr.level.value if tr and tr.level else None,
            no_level_reason=(tr.no_level_reason if tr else "no deployments or incidents stored"),
            report_year=tr.report_year if tr else (w.report_year if w else 0),
            goal=goal.text if goal else "", goal_met=goal.met if goal else None,
        ))
    return tuple(lines)


def _per_service(inputs: ReportInputs, key: str, week: Figure) -> float | None:
    """Last period's deployments per day per service (the stored weekly series)."""
    series = inputs.dora_weekly.get(f"{Metric.DEPLOYMENT_FREQUENCY.value} {key}", ())
    return series[-2][1] if len(series) > 1 else None


def _incidents(inputs: ReportInputs, scope: Scope) -> Incidents:
    services = set(_services_of(scope, inputs))
    period = inputs.period
    t = inputs.thresholds
    mine = [i for i in inputs.incidents
            if scope.kind is ScopeKind.ORGANISATION or i.service in services]
    lines = tuple(IncidentLine(i, (i.end - i.start).total_seconds() if i.end else None)
                  for i in sorted(mine, key=lambda i: (i.start, i.id)))
    restored = [ln.duration for ln in lines if ln.duration is not None
                and ln.incident.end is not None and period.start <= ln.incident.end < period.end]
    durations = [ln for ln in lines if ln.duration is not None]
    longest = max(durations, key=lambda ln: ln.duration or 0.0, default=None)
    median = percentile([d for d in restored if d is not None], 0.5)
    return Incidents(
        count=len(lines), open=sum(1 for ln in lines if ln.duration is None), longest=longest,
        median_restore=median, restored=len(restored),
        goal=f"< {_minutes(t.goal_restore_seconds)}",
        goal_met=None if median is None else median < t.goal_restore_seconds, lines=lines,
    )


def _minutes(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 and seconds % 3600 == 0 \
        else f"{seconds / 60:g} min"


def _services(inputs: ReportInputs, scope: Scope, lines: Sequence[SloLine]) -> tuple[
        ServiceLine, ...]:
    t = inputs.thresholds
    teams = service_teams(inputs)
    now = {(s.service, s.signal): s.value for s in inputs.current.signals}
    before = {(s.service, s.signal): s.value
              for s in (inputs.previous.signals if inputs.previous else ())}
    result = []
    for service in _services_of(scope, inputs):
        signals = []
        for signal in SIGNALS:
            value = now.get((service, signal.value))
            goal, met = "", None
            if signal is Signal.ERROR_RATIO:
                goal = f"< {t.alert_error_ratio * 100:g} %"
                met = None if value is None else value < t.alert_error_ratio
            elif signal is Signal.LATENCY_P95:
                goal = f"< {t.alert_latency_p95_seconds * 1000:g} ms"
                met = None if value is None else value < t.alert_latency_p95_seconds
            higher = None if signal is Signal.TRAFFIC else False
            signals.append(SignalLine(service, signal.value, value,
                                      change(value, before.get((service, signal.value)), higher),
                                      goal, met))
        statuses = [ln.status for ln in lines if ln.service == service]
        worst = min(statuses, key=STATUS_ORDER.index) if statuses else None
        result.append(ServiceLine(service, teams.get(service), tuple(signals), worst))
    return tuple(result)


def _teams(inputs: ReportInputs, lines: Sequence[SloLine]) -> tuple[TeamLine, ...]:
    all_scopes, _ = scopes(inputs)
    result = []
    for scope in (s for s in all_scopes if s.kind is ScopeKind.TEAM):
        mine = [ln for ln in lines if ln.team == scope.name]
        worst = mine[0] if mine else None
        lefts = [ln.budget_left for ln in mine if ln.budget_left is not None]
        trailing = inputs.dora_trailing.get(f"team {scope.name}")
        freq = _figure_value(trailing, Metric.DEPLOYMENT_FREQUENCY)
        result.append(TeamLine(
            team=scope.name, services=tuple(_services_of(scope, inputs)),
            combined=_combined(inputs, scope, mine), worst=worst.slo_id if worst else None,
            worst_status=worst.status if worst else None,
            lowest_budget_left=min(lefts) if lefts else None,
            dora_level=freq.level.value if freq and freq.level else None,
        ))
    return tuple(result)


def _changes(inputs: ReportInputs, scope: Scope, lines: Sequence[SloLine],
             failed: Sequence[FailedDeployment], incidents: Incidents) -> tuple[ChangeItem, ...]:
    t = inputs.thresholds
    items: list[ChangeItem] = []
    for ln in lines:
        if ln.status is Status.BREACHED and ln.previous_status is not Status.BREACHED:
            before = "" if ln.previous_status is None else f" (was {ln.previous_status.value})"
            items.append(ChangeItem("new_breach", ln.slo_id,
                                    f"{ln.slo_id} breached: {ln.reason}{before}"))
    for ln in lines:
        if ln.previous_status is Status.BREACHED and ln.status in (Status.OK, Status.WARNING):
            items.append(ChangeItem("recovered", ln.slo_id,
                                    f"{ln.slo_id} no longer breached ({ln.status.value})"))
    drops = sorted((ln for ln in lines if (ln.budget_left_change.delta or 0) <= -DROP_AT_LEAST),
                   key=lambda ln: (ln.budget_left_change.delta or 0.0, ln.slo_id))
    for ln in drops[: t.largest_drops]:
        assert ln.budget_left_change.delta is not None and ln.budget_left is not None
        was = ln.budget_left_change.previous or 0.0
        items.append(ChangeItem(
            "budget_drop", ln.slo_id,
            f"{ln.slo_id}: budget left {was * 100:.1f} % -> {ln.budget_left * 100:.1f} % "
            f"({ln.budget_left_change.delta * 100:+.1f} pp)"))
    started = sorted({ln.incident.service for ln in incidents.lines
                      if ln.incident.start >= inputs.period.start})
    gap = timedelta(weeks=t.first_incident_weeks)
    for service in started:
        last = inputs.last_incident_before.get(service)
        if last is not None and inputs.period.start - last < gap:
            continue
        if last is not None:
            weeks = (inputs.period.start - last).days // 7
            text = f"{service}: first incident in {weeks} weeks"
        elif inputs.incident_history_since is not None:
            text = (f"{service}: first incident since "
                    f"{inputs.incident_history_since:%Y-%m-%d} (as far back as the alert log goes)")
        else:
            text = f"{service}: first incident on record"
        items.append(ChangeItem("first_incident", service, text))
    for d in failed:
        recovered = ("still failing at the period's end" if d.recovered_at is None else
                     f"recovered after {_minutes_between(d.finished, d.recovered_at)}")
        items.append(ChangeItem("failed_deployment", d.deployment,
                                f"{d.service} {d.version} failed ({', '.join(d.reasons)}); "
                                f"{recovered}"))
    return tuple(items)


def _minutes_between(start: datetime, end: datetime) -> str:
    seconds = (end - start).total_seconds()
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _kpis(inputs: ReportInputs, scope: Scope, lines: Sequence[SloLine],
          dora: Sequence[DoraLine], incidents: Incidents) -> tuple[Kpi, ...]:
    t = inputs.thresholds
    availability = _combined(inputs, scope, lines, "availability")
    key = _dora_key(scope, inputs.dora_week)
    counted = [ln for ln in lines if ln.status is not Status.INSUFFICIENT_DATA]
    met = sum(1 for ln in counted if ln.status is Status.OK)
    met_prev = [ln.previous_status for ln in lines
                if ln.previous_status not in (None, Status.INSUFFICIENT_DATA)]
    kpis = [
        Kpi("availability", "Availability", availability.sli, "ratio",
            f"{t.goal_availability * 100:g} %",
            None if availability.sli is None else availability.sli >= t.goal_availability,
            availability.sli_change, availability.trend,
            None if availability.events is None else round(availability.events),
            f"events-weighted over {availability.slos} availability SLO(s)"),
        Kpi("slos_met", "SLOs within budget", float(met) if counted else None, "count",
            f"all {len(counted)}" if counted else "",
            None if not counted else met == len(counted),
            change(float(met) if counted else None,
                   float(sum(1 for s in met_prev if s is Status.OK)) if met_prev else None, True),
            (), len(counted), f"of {len(counted)} with data; {len(lines) - len(counted)} "
            "without data" if len(lines) != len(counted) else f"of {len(counted)}"),
    ]
    series = inputs.dora_weekly
    for metric, kpi_key, title in (
        (Metric.DEPLOYMENT_FREQUENCY, "deploys", "Deployments per day per service"),
        (Metric.LEAD_TIME, "lead_time", "Lead time (median)"),
        (Metric.CHANGE_FAILURE_RATE, "change_failure_rate", "Change failure rate"),
    ):
        line = next(d for d in dora if d.metric == metric.value)
        trend = tuple(v for _, v in series.get(f"{metric.value} {key}", ()))
        detail = f"{line.week_n} deployment(s)" if metric is not Metric.LEAD_TIME \
            else f"{line.week_n} change(s)"
        if line.level:
            detail += f"; {line.level} over the trailing weeks ({line.report_year} DORA bands)"
        kpis.append(Kpi(kpi_key, title, line.week, line.unit, line.goal, line.goal_met,
                        line.week_change, trend, line.week_n, detail))
    restore_trend = tuple(v for _, v in series.get(f"{Metric.TIME_TO_RESTORE.value} {key}", ()))
    before = restore_trend[-2] if len(restore_trend) > 1 else None
    kpis.append(Kpi("restore", "Time to restore (median)", incidents.median_restore, "seconds",
                    incidents.goal, incidents.goal_met,
                    change(incidents.median_restore, before, False), restore_trend,
                    incidents.restored, f"{incidents.count} incident(s), "
                    f"{incidents.restored} restored in the period"))
    return tuple(kpis)


def _headline(kpis: Sequence[Kpi], changes: Sequence[ChangeItem]) -> tuple[str, bool | None]:
    judged = [k for k in kpis if k.goal_met is not None]
    missed = [k for k in judged if not k.goal_met]
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.kind] = counts.get(c.kind, 0) + 1
    since = "; ".join(f"{n} {label}" for kind, label in (
        ("new_breach", "new breach(es)"), ("recovered", "SLO(s) recovered"),
        ("first_incident", "first incident(s) in weeks"),
        ("failed_deployment", "failed deployment(s)"),
    ) if (n := counts.get(kind, 0)))
    since = f" Since last period: {since}." if since else " No new breach since last period."
    if not judged:
        return "Not enough data to judge the goals this period." + since, None
    if not missed:
        return f"Inside all {len(judged)} goals this period." + since, True
    names = ", ".join(k.title for k in missed)
    return f"Outside {len(missed)} of {len(judged)} goals this period: {names}." + since, False


def build_scorecard(inputs: ReportInputs, scope: Scope, tz: tzinfo) -> PeriodScorecard:
    """The scorecard of ``scope`` (pure: the same inputs give the same scorecard)."""
    lines = _slo_lines(inputs, scope)
    incidents = _incidents(inputs, scope)
    services = set(_services_of(scope, inputs))
    failed = tuple(d for d in inputs.failed_deployments
                   if scope.kind is ScopeKind.ORGANISATION or d.service in services)
    dora = _dora_lines(inputs, scope)
    changes = _changes(inputs, scope, lines, failed, incidents)
    kpis = _kpis(inputs, scope, lines, dora, incidents)
    headline, within = _headline(kpis, changes)
    _, notes = scopes(inputs)
    if scope.kind is not ScopeKind.ORGANISATION:
        notes = tuple(n for n in notes if not n.startswith("team "))
    problems = tuple(f"measuring the period: {p}" for p in inputs.current.problems)
    ids = {line.slo_id for line in lines}
    maintenance = tuple(n.removeprefix(NOTE_PREFIX) for n in inputs.current.notes
                        if n.removeprefix(NOTE_PREFIX).split(": ", 1)[0] in ids)
    trailing = inputs.dora_trailing.get("organisation")
    weeks = round((trailing.until - trailing.since).days / 7) if trailing else 0
    return PeriodScorecard(
        period=inputs.period,
        period_label=inputs.period.label(tz),
        previous_key=inputs.previous.period.key if inputs.previous else None,
        scope=scope,
        measured_at=inputs.measured_at,
        headline=headline,
        within_goals=within,
        kpis=kpis,
        combined=_combined(inputs, scope, lines),
        slos=lines,
        teams=_teams(inputs, lines) if scope.kind is ScopeKind.ORGANISATION else (),
        services=_services(inputs, scope, lines),
        dora=dora,
        dora_trailing_weeks=weeks,
        incidents=incidents,
        failed_deployments=failed,
        changes=changes,
        notes=notes + maintenance + problems,
        trend_keys=tuple(p.period.key for p in inputs.history),
    )


def build_all(inputs: ReportInputs, tz: tzinfo) -> dict[str, PeriodScorecard]:
    """Every scope's scorecard (``scopes``), keyed by scope key."""
    found, _ = scopes(inputs)
    return {scope.key: build_scorecard(inputs, scope, tz) for scope in found}
