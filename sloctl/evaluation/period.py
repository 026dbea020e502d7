"""Figures of a closed period (a week, a month), exact from the backend's counts at its end.

A period ``[start, end)`` is measured with the same queries as a cycle, over one window of the
period's length evaluated at ``end`` (``increase(...[7d])`` at the end of the week), next to the
SLO's own window ending at ``end`` (how much budget is left there). Never by averaging stored
ratios. ``plan_period`` and ``period_figures`` are pure; ``measure_period`` runs the queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sloctl.core.maintenance import Maintenance
from sloctl.core.signals import SignalValue
from sloctl.core.slo import SLOStatus, evaluate_slo
from sloctl.core.windows import WindowResult
from sloctl.errors import BackendError
from sloctl.evaluation.assemble import (
    Outcome,
    Results,
    bucket_fallbacks,
    maintenance_note,
    service_signals,
    signal_services,
    slo_coverage,
    window_counts,
)
from sloctl.evaluation.fetch import MetricsBackend, fetch
from sloctl.evaluation.plan import (
    Backend,
    CyclePlan,
    Query,
    SloPlan,
    log_groups,
    period_of,
    plan_coverage,
    plan_signals,
    plan_window,
    shared_bounds,
    with_exclusions,
)
from sloctl.settings import Settings
from sloctl.spec.models import SLOSpec


@dataclass(frozen=True)
class SloPeriod:
    """One SLO over a closed period: its counts and SLI there, and its status at the end."""

    slo_id: str
    service: str
    name: str
    objective: float  # ratio
    start: datetime
    end: datetime
    period: WindowResult  # counts, SLI and burn rate over [start, end)
    status: SLOStatus  # at ``end``: budget left in the SLO's own window
    budget_spent: float | None  # share of the SLO window's budget the period's bad events spent

    @property
    def insufficient_data(self) -> bool:
        """No events could be counted in the period (no series, no traffic or a failure)."""
        return self.period.sli is None


@dataclass(frozen=True)
class PeriodFigures:
    """Every SLO and every service's golden signals over one closed period."""

    start: datetime
    end: datetime
    slos: tuple[SloPeriod, ...]
    signals: tuple[SignalValue, ...]  # per service, over the whole period (traffic in req/s)
    problems: tuple[str, ...]
    query_count: int
    notes: tuple[str, ...] = ()  # maintenance left out of the period, per SLO


def period_seconds(start: datetime, end: datetime) -> int:
    """The period's length in whole seconds; ValueError unless ``start < end``."""
    seconds = int((end - start).total_seconds())
    if seconds <= 0:
        raise ValueError(f"a period must end after it starts: {start} .. {end}")
    return seconds


def plan_period(
    specs: Sequence[SLOSpec], settings: Settings, start: datetime, end: datetime,
    maintenance: Sequence[Maintenance] = (),
) -> CyclePlan:
    """The queries of ``[start, end)``: per SLO the period window and its own window at ``end``,
    and the golden signals over the period. Maintenance (``maintenance`` and the specs' own)
    inside either window is queried too, to be left out as a cycle leaves it out."""
    length = period_seconds(start, end)
    bounds = shared_bounds(specs)
    log_services = log_groups(specs)
    lookback = settings.prometheus.coverage_lookback_seconds
    plan = CyclePlan(at=end)
    for spec in specs:
        full, slo_window = period_of(spec, end, settings.tzinfo)
        windows = tuple(dict.fromkeys((length, slo_window)))
        applicable = tuple(m for m in (*spec.maintenance, *maintenance)
                           if m.applies_to(spec.service, spec.slo_id))
        plan.slos.append(SloPlan(
            spec=spec,
            period=full,
            slo_window=slo_window,
            windows=tuple(
                with_exclusions(plan_window(spec, w, bounds, log_services), spec, applicable,
                                end, bounds, log_services)
                for w in windows
            ),
            coverage=plan_coverage(spec, windows, lookback),
            maintenance=applicable,
        ))
    default, groups = settings.signals.groups(specs)
    plan.signals[length] = tuple(
        plan_signals(settings, length, key, sorted(services), key == default)
        for key, services in groups.items()
    )
    return plan


def period_figures(
    plan: CyclePlan, raw: Mapping[Query, Outcome], start: datetime, end: datetime
) -> PeriodFigures:
    """The period's figures from the answers to ``plan_period``'s queries (pure)."""
    length = period_seconds(start, end)
    results = Results(raw)
    slos = []
    notes = []
    for p in plan.slos:
        spec = p.spec
        note = maintenance_note(p, length)
        if note:
            notes.append(note)
        cov = slo_coverage(p.coverage, spec, results)
        counts = [
            window_counts(spec, w, results, None if cov is None else cov.get(w.window, 0.0))
            for w in p.windows
        ]
        status = evaluate_slo(
            slo_id=spec.slo_id, service=spec.service, name=spec.name,
            objective=spec.objective_ratio, period=p.period, period_elapsed=p.slo_window,
            at=end, counts=counts, slo_window=p.slo_window, rules=(),
        )
        period = status.window(length)
        assert period is not None
        own = status.window(p.slo_window)
        spent = None
        if period.bad is not None and own is not None and own.total:
            spent = period.bad / (status.error_budget * own.total)
        slos.append(SloPeriod(
            slo_id=spec.slo_id, service=spec.service, name=spec.name,
            objective=spec.objective_ratio, start=start, end=end, period=period, status=status,
            budget_spent=spent,
        ))
    signals: list[SignalValue] = []
    for groups in plan.signals.values():
        for service, sq in signal_services(groups, results).items():
            signals += service_signals(sq, results, service).values
    errors = dict.fromkeys(str(r) for r in raw.values() if isinstance(r, BackendError))
    return PeriodFigures(start, end, tuple(slos), tuple(signals), tuple(errors), len(raw),
                         tuple(notes))


def measure_period(
    specs: Sequence[SLOSpec],
    settings: Settings,
    source: MetricsBackend,
    start: datetime,
    end: datetime,
    maintenance: Sequence[Maintenance] = (),
) -> PeriodFigures:
    """Query the backend at ``end`` and return the period's figures (Prometheus SLOs only),
    the requests of ``maintenance`` (and the specs' own windows) left out."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    plan = plan_period([s for s in specs if s.indicator_kind != "logs"], settings, start, end,
                       maintenance)
    backends: dict[Backend, MetricsBackend] = {"prometheus": source}
    workers = settings.prometheus.max_concurrency
    raw: dict[Query, Outcome] = dict(fetch(plan.queries(), end, backends, workers=workers))
    extra = bucket_fallbacks(plan, raw)
    if extra:
        raw |= fetch(extra, end, backends, workers=workers)
    return period_figures(plan, raw, start, end)
