"""Measuring a period's inputs once: SLOs and golden signals from the backend at each period's
end (``sloctl.evaluation.period``), DORA and incidents from the store; then stored.

    inputs = inputs_for(period, settings, specs, store, source, now)   # stored ones if any

A period measured once is never measured again: its stored inputs are what its scorecard is
built from, today and in a year. Earlier periods of the trend come from their own stored
inputs when they have some, else they are measured now (their SLOs and signals only).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sloctl.core.maintenance import Maintenance
from sloctl.dora.compute import Scorecard, rollups, scorecard
from sloctl.dora.history import ServiceHistory, build_histories
from sloctl.dora.incidents import load_dora_incidents
from sloctl.dora.levels import Metric
from sloctl.evaluation.fetch import MetricsBackend
from sloctl.evaluation.period import SloPeriod, measure_period
from sloctl.evaluation.plan import longest_window
from sloctl.report import codec
from sloctl.report.inputs import (
    FailedDeployment,
    IncidentFigure,
    PeriodFigures,
    ReportInputs,
    SignalFigure,
    SloFigures,
    Thresholds,
)
from sloctl.report.period import Period
from sloctl.settings import Settings
from sloctl.spec.models import SLOSpec
from sloctl.store import Store, StoreReader

log = logging.getLogger(__name__)
WEEKLY_METRICS = (Metric.DEPLOYMENT_FREQUENCY, Metric.LEAD_TIME, Metric.CHANGE_FAILURE_RATE,
                  Metric.TIME_TO_RESTORE)


def thresholds(settings: Settings) -> Thresholds:
    """The statuses' thresholds and the goals in force (stored with the inputs)."""
    r, d, a = settings.report, settings.dora, settings.default_alerts
    return Thresholds(
        warning_budget_left=r.warning_budget_left, warning_burn_rate=r.warning_burn_rate,
        goal_availability=r.goal_availability,
        goal_deploys_per_day_per_service=d.goal_deploys_per_day_per_service,
        goal_lead_time_seconds=float(d.goal_lead_time_seconds),
        goal_change_failure_rate=d.goal_change_failure_rate,
        goal_restore_seconds=float(d.goal_restore_seconds),
        alert_error_ratio=a.error_ratio.threshold,
        alert_latency_p95_seconds=a.latency_p95.threshold,
        first_incident_weeks=r.first_incident_weeks, largest_drops=r.largest_drops,
    )


def spec_teams(specs: Sequence[SLOSpec]) -> dict[str, tuple[str, ...]]:
    """team -> its services, from the specs' ``team`` labels."""
    teams: dict[str, set[str]] = {}
    for spec in specs:
        team = spec.labels_dict.get("team")
        if team:
            teams.setdefault(team, set()).add(spec.service)
    return {t: tuple(sorted(s)) for t, s in sorted(teams.items())}


def _slo(spec: SLOSpec, p: SloPeriod | None) -> SloFigures:
    labels = spec.labels_dict
    kind = "latency" if spec.indicator_kind == "latency" else "availability"
    base: dict[str, Any] = dict(
        slo_id=spec.slo_id, service=spec.service, name=spec.name,
        objective=spec.objective_ratio, window=spec.window.name, team=labels.get("team"),
        tier=labels.get("tier"), kind=kind,
    )
    if p is None:  # log-based SLOs are not measured over periods yet
        return SloFigures(**base, total=None, bad=None, sli=None, burn_rate=None,
                          budget_spent=None, budget_left=None,
                          no_data_reason="log-based SLOs (Loki) are not measured for reports yet")
    w = p.period
    reason = None
    if p.insufficient_data:
        reason = w.reason or p.status.reason or "no events could be counted in the period"
    return SloFigures(
        **base, total=w.total, bad=w.bad, sli=w.sli, burn_rate=w.burn_rate,
        budget_spent=p.budget_spent, budget_left=p.status.budget_remaining,
        no_data_reason=reason,
    )


def maintenance_for(store: StoreReader, specs: Sequence[SLOSpec], period: Period
                    ) -> list[Maintenance]:
    """The windows made with ``sloctl maintenance`` that touch the period or the SLO windows
    ending with it (the specs' own windows are in the specs)."""
    earliest = min(period.start, period.end - timedelta(seconds=longest_window(specs)))
    found: list[Maintenance] = store.maintenance.between(earliest, period.end)
    return found


def measure_figures(specs: Sequence[SLOSpec], settings: Settings, source: MetricsBackend,
                    period: Period, maintenance: Sequence[Maintenance] = ()) -> PeriodFigures:
    """One period's SLOs and golden signals, exactly from the backend at its end, the requests
    of ``maintenance`` (and of the specs' own windows) left out."""
    measured = measure_period(specs, settings, source, period.start, period.end, maintenance)
    by_id = {p.slo_id: p for p in measured.slos}
    return PeriodFigures(
        period=period,
        slos=tuple(_slo(spec, by_id.get(spec.slo_id)) for spec in specs),
        signals=tuple(SignalFigure(s.service, s.signal.value, s.value, s.reason)
                      for s in measured.signals),
        problems=measured.problems,
        notes=measured.notes,
    )


def _scorecards(cards: Sequence[Scorecard]) -> dict[str, Scorecard]:
    return {c.scope: c for c in cards}


def _weekly(histories: Mapping[tuple[str, str], ServiceHistory],
            teams: Mapping[str, Sequence[str]], periods: Sequence[Period],
            settings: Settings) -> dict[str, tuple[tuple[str, float | None], ...]]:
    config, tz = settings.dora.config(), settings.tzinfo
    series: dict[str, list[tuple[str, float | None]]] = {}
    for p in periods:
        for card in rollups(histories, teams, p.start, p.end, tz, config, card=scorecard):
            for metric in WEEKLY_METRICS:
                f = card.figure(metric)
                value = f.value
                if metric is Metric.DEPLOYMENT_FREQUENCY:
                    per_service = f.details.get("per_day_per_service")
                    value = float(per_service) if isinstance(per_service, int | float) else None
                series.setdefault(f"{metric.value} {card.scope}", []).append((p.key, value))
    return {k: tuple(v) for k, v in series.items()}


def measure_inputs(
    period: Period, settings: Settings, specs: Sequence[SLOSpec], store: StoreReader,
    source: MetricsBackend, now: datetime,
) -> ReportInputs:
    """Measure every input of ``period`` (see the module docstring); nothing is stored."""
    tz = settings.tzinfo
    count = settings.report.trailing_weeks
    periods = [period.previous(k, tz) for k in range(count - 1, 0, -1)] + [period]
    history = []
    for p in periods:
        stored = store.reports.inputs(p.key) if p is not period else None
        if stored is not None:
            history.append(codec.decode(PeriodFigures, stored["history"][-1]))
        else:
            history.append(measure_figures(specs, settings, source, p,
                                           maintenance_for(store, specs, p)))
    teams = spec_teams(specs)
    config = settings.dora.config()
    incidents = load_dora_incidents(store, settings, now)
    # as serve's scorecards and `sloctl dora`: a failed canary, then a rollback, fails the
    # judged deployment
    histories = build_histories(store.deployments.history(period.end), incidents, config,
                                store.deployments.links(), store.canary.verdicts(period.end))
    week = rollups(histories, teams, period.start, period.end, tz, config)
    trailing = rollups(histories, teams, periods[0].start, period.end, tz, config,
                       card=scorecard)
    links = [link for h in histories.values() for link in h.incidents]
    overlapping = sorted((ln for ln in links if ln.incident.start < period.end
                          and (ln.incident.end is None or ln.incident.end > period.start)),
                         key=lambda ln: (ln.incident.start, ln.incident.id))
    last_before: dict[str, datetime] = {}
    for ln in links:
        i = ln.incident
        if i.start < period.start and (i.service not in last_before
                                       or i.start > last_before[i.service]):
            last_before[i.service] = i.start
    failed = [f for h in histories.values() for f in h.deployments
              if f.failed and period.start <= f.finished < period.end]
    named = set(teams) | set(settings.dora.teams) | set(settings.report.teams)
    return ReportInputs(
        period=period, measured_at=now, history=tuple(history),
        dora_week=_scorecards(week), dora_trailing=_scorecards(trailing),
        dora_weekly=_weekly(histories, teams, periods, settings),
        incidents=tuple(IncidentFigure.of(ln) for ln in overlapping),
        last_incident_before=last_before,
        failed_deployments=tuple(FailedDeployment.of(f) for f in sorted(
            failed, key=lambda f: (f.finished, f.deployment.service))),
        teams={t: teams.get(t, ()) for t in sorted(named)},
        thresholds=thresholds(settings),
        incident_history_since=min((i.start for i in incidents), default=None),
    )


def stored_inputs(store: StoreReader, period: Period) -> ReportInputs | None:
    """The inputs stored for ``period``, if it was measured."""
    body = store.reports.inputs(period.key)
    return None if body is None else codec.decode(ReportInputs, body)


def inputs_for(
    period: Period, settings: Settings, specs: Sequence[SLOSpec], store: Store,
    source: MetricsBackend, now: datetime, *, store_problems: bool = True,
) -> tuple[ReportInputs, bool]:
    """The period's stored inputs, else measured now and stored; and whether they are stored.

    Not stored: a period that has not ended (its figures still move), and, unless
    ``store_problems``, a measurement during which the backend answered errors (the caller
    measures again later rather than freezing a week of "unknown")."""
    found = stored_inputs(store, period)
    if found is not None:
        return found, True
    inputs = measure_inputs(period, settings, specs, store, source, now)
    if now < period.end or (inputs.current.problems and not store_problems):
        return inputs, False
    if store.reports.save_inputs(period.key, period.start, period.end, now,
                                 codec.encode(inputs)):
        log.info("report inputs of %s measured and stored", period.key)
        return inputs, True
    return stored_inputs(store, period) or inputs, True  # another process stored it first
