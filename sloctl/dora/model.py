"""DORA inputs: deployments, commits, incidents, manual links and the computation's settings.

Plain immutable values; the receivers and the store build them, ``dora_history`` and ``dora``
compute on them. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sloctl.dora.levels import DEFAULT_REPORT_YEAR


class DeployStatus(StrEnum):
    """Outcome of one deploy attempt. ROLLBACK is a successful deployment declared a rollback."""

    SUCCESS = "success"
    FAILURE = "failure"
    ROLLBACK = "rollback"
    CANCELLED = "cancelled"

    @property
    def completed(self) -> bool:
        """True when the attempt changed what runs (success or rollback)."""
        return self in (DeployStatus.SUCCESS, DeployStatus.ROLLBACK)


@dataclass(frozen=True)
class Commit:
    sha: str
    time: datetime


@dataclass(frozen=True, order=True)
class DeploymentKey:
    """The idempotency key of a deployment event."""

    service: str
    environment: str
    version: str
    finished: datetime

    def __str__(self) -> str:
        return f"{self.service}/{self.environment}@{self.version} {self.finished.isoformat()}"


@dataclass(frozen=True)
class Deployment:
    """One deploy attempt of one service to one environment (``finished`` is its completion)."""

    service: str
    environment: str
    version: str
    sha: str
    finished: datetime
    status: DeployStatus = DeployStatus.SUCCESS
    commit_time: datetime | None = None
    started: datetime | None = None
    commits: tuple[Commit, ...] = ()  # git log prev_prod_sha..sha without merges, if known
    ref: str = ""  # branch or tag, matched by the rework (hotfix/revert) patterns

    @property
    def key(self) -> DeploymentKey:
        return DeploymentKey(self.service, self.environment, self.version, self.finished)


@dataclass(frozen=True)
class DoraIncident:
    """One incident episode (E5): ``end`` None while it is open."""

    id: str
    service: str
    environment: str
    start: datetime
    end: datetime | None
    severity: str
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")

    def open_at(self, at: datetime) -> bool:
        """Firing at ``at``: started before it and not ended by then."""
        return self.start < at and (self.end is None or self.end > at)


@dataclass(frozen=True)
class CanaryJudgement:
    """A canary judgement of one version of a service (``sloctl canary``, stored).

    ``version`` is matched against a deployment's version or SHA; ``environment`` None
    matches any. ``verdict`` is ``pass``, ``fail`` or ``inconclusive``.
    """

    service: str
    version: str
    at: datetime
    verdict: str
    environment: str | None = None

    def concerns(self, deployment: Deployment) -> bool:
        """Whether this judges ``deployment`` (same service, version or SHA, environment)."""
        return (
            self.service == deployment.service
            and self.version in (deployment.version, deployment.sha)
            and self.environment in (None, deployment.environment)
        )


# Manual override (``sloctl incidents link/unlink``): incident id -> deployment, or None to unlink.
ManualLinks = Mapping[str, DeploymentKey | None]

# Alert labels that carry the deployed version or commit (E6 rule 1).
VERSION_LABELS = ("version", "service_version", "commit_sha", "sha", "git_sha")


@dataclass(frozen=True)
class HouseGoals:
    """The house targets shown beside the DORA levels."""

    deploys_per_day_per_service: float = 3.0
    lead_time_seconds: float = 3600.0
    change_failure_rate: float = 0.03
    restore_seconds: float = 900.0


@dataclass(frozen=True)
class DoraConfig:
    """How deployments count and incidents are attributed (reference/dora.md E2-E11)."""

    production_environments: frozenset[str] = frozenset({"production", "prod"})
    severities: frozenset[str] = frozenset({"critical", "page"})
    attribution_window: timedelta = timedelta(hours=24)
    strong_window: timedelta = timedelta(hours=1)
    duplicate_window: timedelta = timedelta(minutes=10)
    settle_period: timedelta = timedelta(minutes=15)
    rework_patterns: tuple[str, ...] = ("hotfix", "revert")
    min_deployments: int = 5
    report_year: int = DEFAULT_REPORT_YEAR
    goals: HouseGoals = HouseGoals()

    def is_rework_version(self, deployment: Deployment) -> bool:
        """The version or ref matches a hotfix/revert pattern (case-insensitive substring)."""
        text = f"{deployment.version} {deployment.ref}".lower()
        return any(pattern.lower() in text for pattern in self.rework_patterns)
