"""What a period's scorecard is built from: measured once, stored, never measured again.

``ReportInputs`` holds every figure the pure ``build`` needs, copied at measuring time: each
SLO's counts over the period and the 11 periods before it (from ``measure_period``, never from
averaged stored ratios), the golden signals of the period and the one before, DORA scorecards,
incidents, failed deployments and the thresholds and goals in force. Rebuilding a past week
from its stored inputs therefore gives the same digits, whatever changed since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sloctl.dora.compute import Scorecard
from sloctl.dora.history import DeploymentFacts, IncidentLink
from sloctl.report.period import Period


@dataclass(frozen=True)
class SloFigures:
    """One SLO over one period (``SloPeriod`` flattened), with its team and tier labels."""

    slo_id: str
    service: str
    name: str
    objective: float  # ratio, 0.995
    window: str  # the SLO's own window, "28d" or "calendar-month"
    team: str | None
    tier: str | None
    total: float | None  # events counted in the period (None: could not be counted)
    bad: float | None
    sli: float | None  # attainment over the period
    burn_rate: float | None  # over the period
    budget_spent: float | None  # share of the SLO window's budget the period's bad events spent
    budget_left: float | None  # share left in the SLO's own window at the period's end
    no_data_reason: str | None = None  # why nothing could be counted (INSUFFICIENT_DATA)
    kind: str = "availability"  # "availability" (errors) or "latency": the availability KPI


@dataclass(frozen=True)
class SignalFigure:
    """One golden signal of one service over one period (traffic in req/s; ratios; seconds)."""

    service: str
    signal: str  # sloctl.core.signals.Signal value
    value: float | None
    reason: str | None = None


@dataclass(frozen=True)
class PeriodFigures:
    """Every SLO and signal of one period, as measured (``problems``: backend errors)."""

    period: Period
    slos: tuple[SloFigures, ...]
    signals: tuple[SignalFigure, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # maintenance left out of the period's SLOs


@dataclass(frozen=True)
class IncidentFigure:
    """One qualifying incident that overlapped the period, with its attribution."""

    id: str
    service: str
    start: datetime
    end: datetime | None  # None: still open at the period's end
    severity: str
    deployment: str | None  # the attributed deployment (``DeploymentKey`` text), if any
    attribution: str  # exact, in_effect_strong, in_effect_weak, manual or unattributed

    @classmethod
    def of(cls, link: IncidentLink) -> IncidentFigure:
        """The figure of one of DORA's incident links."""
        i = link.incident
        return cls(id=i.id, service=i.service, start=i.start, end=i.end, severity=i.severity,
                   deployment=None if link.deployment is None else str(link.deployment),
                   attribution=link.reason.value)


@dataclass(frozen=True)
class FailedDeployment:
    """A deployment finished in the period and flagged failed (DORA E7), with its recovery."""

    deployment: str
    service: str
    version: str
    finished: datetime
    reasons: tuple[str, ...]
    recovered_at: datetime | None

    @classmethod
    def of(cls, f: DeploymentFacts) -> FailedDeployment:
        """The figure of one of DORA's failed deployments."""
        return cls(deployment=str(f.deployment.key), service=f.deployment.service,
                   version=f.deployment.version, finished=f.finished,
                   reasons=tuple(f.failed_by), recovered_at=f.recovered_at)


@dataclass(frozen=True)
class Thresholds:
    """Statuses, goals and 'what changed' rules in force when the inputs were measured."""

    warning_budget_left: float = 0.25  # WARNING below this share of budget left in the window
    warning_burn_rate: float = 1.0  # WARNING when the period burned faster than this
    goal_availability: float = 0.9995
    goal_deploys_per_day_per_service: float = 3.0
    goal_lead_time_seconds: float = 3600.0
    goal_change_failure_rate: float = 0.03
    goal_restore_seconds: float = 900.0
    alert_error_ratio: float = 0.005
    alert_latency_p95_seconds: float = 0.3
    first_incident_weeks: int = 4  # "first incident in N weeks"
    largest_drops: int = 3  # how many budget drops "what changed" lists


@dataclass(frozen=True)
class ReportInputs:
    """Everything ``build`` reads, for one period. ``history`` is oldest first and ends with
    the period itself; ``history[-2]`` (when present) is the previous period."""

    period: Period
    measured_at: datetime
    history: tuple[PeriodFigures, ...]
    dora_week: Mapping[str, Scorecard]  # scope ("organisation", "team X", "svc/env") -> card
    dora_trailing: Mapping[str, Scorecard]  # the same scopes over the trailing weeks
    dora_weekly: Mapping[str, tuple[tuple[str, float | None], ...]]  # "metric scope" -> series
    incidents: tuple[IncidentFigure, ...]
    last_incident_before: Mapping[str, datetime]  # service -> latest incident start before
    failed_deployments: tuple[FailedDeployment, ...]
    teams: Mapping[str, tuple[str, ...]]  # every team named in the settings or the specs
    thresholds: Thresholds = field(default_factory=Thresholds)
    incident_history_since: datetime | None = None  # how far back ``last_incident_before`` saw

    @property
    def current(self) -> PeriodFigures:
        return self.history[-1]

    @property
    def previous(self) -> PeriodFigures | None:
        return self.history[-2] if len(self.history) > 1 else None
