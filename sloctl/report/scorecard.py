"""The scorecard of one period and one scope: what the email shows and the app reads.

Built by ``sloctl.report.build.build_scorecard`` from ``ReportInputs`` (pure); stored per
(period, scope) by ``store.reports``; rendered by ``sloctl.report.render``. Ratios are 0..1,
durations seconds, traffic requests per second; ``None`` is unknown (never 0 nor 100 %).
Every figure that has a goal carries it; every figure with a previous period carries its change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sloctl.report.inputs import FailedDeployment, IncidentFigure
from sloctl.report.period import Period


class Status(StrEnum):
    """An SLO's status over the period (as AWS Application Signals names them)."""

    OK = "OK"
    WARNING = "WARNING"
    BREACHED = "BREACHED"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


STATUS_ORDER = (Status.BREACHED, Status.WARNING, Status.INSUFFICIENT_DATA, Status.OK)


class ScopeKind(StrEnum):
    ORGANISATION = "organisation"
    TEAM = "team"
    SERVICE = "service"


@dataclass(frozen=True)
class Scope:
    """The organisation, one team or one service. ``key``: "organisation", "team/NAME",
    "service/NAME" (the store's and the app's identifier)."""

    kind: ScopeKind
    name: str = ""

    @property
    def key(self) -> str:
        return "organisation" if self.kind is ScopeKind.ORGANISATION else f"{self.kind}/{self.name}"

    @property
    def title(self) -> str:
        return "Organisation" if self.kind is ScopeKind.ORGANISATION else (
            f"Team {self.name}" if self.kind is ScopeKind.TEAM else f"Service {self.name}")

    @staticmethod
    def parse(key: str) -> Scope:
        if key == "organisation":
            return ORGANISATION
        kind, sep, name = key.partition("/")
        if not sep or not name or kind not in ("team", "service"):
            raise ValueError(f"invalid scope {key!r}; use organisation, team/NAME or service/NAME")
        return Scope(ScopeKind(kind), name)


ORGANISATION = Scope(ScopeKind.ORGANISATION)


@dataclass(frozen=True)
class Change:
    """A figure against the previous period: ``delta`` = value - previous; ``direction``
    better/worse/same (None when either is unknown)."""

    previous: float | None
    delta: float | None
    direction: str | None


@dataclass(frozen=True)
class SloLine:
    """One SLO over the period."""

    slo_id: str
    service: str
    name: str
    team: str | None
    tier: str | None
    kind: str
    window: str
    objective: float
    attainment: float | None
    budget_spent: float | None  # share of the window's budget spent in the period
    budget_left: float | None  # share left in its window at the period's end
    burn_rate: float | None
    status: Status
    reason: str  # why this status, in words
    events: float | None
    bad_events: float | None
    traffic_share: float | None  # its events / all events of the scope's SLOs
    weighted_impact: float | None  # its bad events / all bad events of the scope's SLOs
    attainment_change: Change
    budget_left_change: Change
    previous_status: Status | None
    trend: tuple[float | None, ...]  # attainment per period, oldest first, ends with this one


@dataclass(frozen=True)
class Combined:
    """Grafana's combined SLI over the events of several SLOs (events-weighted)."""

    slos: int
    met: int  # SLOs with status OK
    breached: int
    sli: float | None  # 1 - sum(bad) / sum(total)
    objective: float | None  # events-weighted objective
    budget_left: float | None  # 1 - sum(bad) / sum(total * (1 - objective)): of the period
    events: float | None
    bad_events: float | None
    sli_change: Change
    trend: tuple[float | None, ...]


@dataclass(frozen=True)
class Kpi:
    """One tile: value with goal, change and a trend (one point per period, oldest first)."""

    key: str  # availability, slos_met, deploys, lead_time, change_failure_rate, restore
    title: str
    value: float | None
    unit: str  # ratio, seconds, per_day, count
    goal: str  # "99.95 %"; "" when the figure has no goal
    goal_met: bool | None
    change: Change
    trend: tuple[float | None, ...]
    n: int | None  # sample size (events, deployments, incidents)
    detail: str = ""  # level, sample size, why unknown


@dataclass(frozen=True)
class TeamLine:
    """One team in the organisation's table."""

    team: str
    services: tuple[str, ...]
    combined: Combined
    worst: str | None  # the worst SLO id (status, then budget left)
    worst_status: Status | None
    lowest_budget_left: float | None
    dora_level: str | None  # deployment frequency level over the trailing weeks


@dataclass(frozen=True)
class SignalLine:
    service: str
    signal: str
    value: float | None
    change: Change
    goal: str  # "< 0.5 %" for the error ratio, "< 300 ms" for p95, else ""
    goal_met: bool | None


@dataclass(frozen=True)
class ServiceLine:
    """A service's golden signals over the period against the period before."""

    service: str
    team: str | None
    signals: tuple[SignalLine, ...]
    worst_status: Status | None


@dataclass(frozen=True)
class DoraLine:
    """One DORA figure for the period and the trailing weeks."""

    metric: str  # sloctl.dora.levels.Metric value
    title: str
    unit: str  # ratio, seconds, per_day
    week: float | None
    week_n: int
    week_change: Change
    trailing: float | None
    trailing_n: int
    level: str | None  # of the trailing weeks
    no_level_reason: str | None
    report_year: int
    goal: str
    goal_met: bool | None  # of the period's value


@dataclass(frozen=True)
class IncidentLine:
    incident: IncidentFigure
    duration: float | None  # seconds; None while open


@dataclass(frozen=True)
class Incidents:
    count: int
    open: int
    longest: IncidentLine | None
    median_restore: float | None  # seconds, over the incidents resolved in the period
    restored: int
    goal: str
    goal_met: bool | None
    lines: tuple[IncidentLine, ...]


@dataclass(frozen=True)
class ChangeItem:
    """One line of "what changed": new_breach, recovered, budget_drop, first_incident,
    failed_deployment."""

    kind: str
    subject: str  # SLO id, service or deployment
    text: str


@dataclass(frozen=True)
class PeriodScorecard:
    """The scorecard of ``scope`` over ``period``."""

    period: Period
    period_label: str
    previous_key: str | None
    scope: Scope
    measured_at: datetime
    headline: str
    within_goals: bool | None
    kpis: tuple[Kpi, ...]
    combined: Combined
    slos: tuple[SloLine, ...]  # worst first
    teams: tuple[TeamLine, ...]
    services: tuple[ServiceLine, ...]
    dora: tuple[DoraLine, ...]
    dora_trailing_weeks: int
    incidents: Incidents
    failed_deployments: tuple[FailedDeployment, ...]
    changes: tuple[ChangeItem, ...]
    notes: tuple[str, ...]  # teams left out, services without a team, data problems
    trend_keys: tuple[str, ...]  # the periods of every trend, oldest first

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)
