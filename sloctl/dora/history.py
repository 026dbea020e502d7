"""Per-deployment DORA facts of one service and environment (reference/dora.md E2, E4, E6-E10).

``build_histories`` turns raw deploy events and incidents into counted deployments flagged as
rollback, hotfix, failed (with why), rework, their lead-time samples and recovery times, plus the
attribution of every qualifying incident with its reason. ``dora`` aggregates these facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sloctl.dora.model import (
    VERSION_LABELS,
    CanaryJudgement,
    Deployment,
    DeploymentKey,
    DeployStatus,
    DoraConfig,
    DoraIncident,
    ManualLinks,
)


class Attribution(StrEnum):
    EXACT = "exact"
    STRONG = "in_effect_strong"
    WEAK = "in_effect_weak"
    MANUAL = "manual"
    UNATTRIBUTED = "unattributed"


@dataclass(frozen=True)
class IncidentLink:
    """Where an incident was attributed, and why."""

    incident: DoraIncident
    deployment: DeploymentKey | None
    reason: Attribution
    detail: str


@dataclass
class DeploymentFacts:
    """One counted production deployment and what happened to it."""

    deployment: Deployment
    rollback: bool = False
    rolled_back: bool = False  # a later rollback returned to a version before this one
    hotfix: bool = False
    failed_by: list[str] = field(default_factory=list)  # attribution reasons, rollback, hotfix
    rework_reason: str | None = None
    lead_times: list[float] = field(default_factory=list)  # seconds, >= 0
    negative_lead_times: int = 0
    head_commit_only: bool = False  # lead time per head commit: a lower bound
    no_commit_time: bool = False
    recovered_at: datetime | None = None
    recovered_by: str | None = None  # "incident resolved" or "rollback/hotfix <version>"
    detection_lag: float | None = None  # seconds from the deployment to its first incident

    @property
    def failed(self) -> bool:
        return bool(self.failed_by)

    @property
    def rework(self) -> bool:
        return self.rework_reason is not None

    @property
    def finished(self) -> datetime:
        return self.deployment.finished


@dataclass(frozen=True)
class ServiceHistory:
    """Everything DORA needs about one (service, environment), oldest first."""

    service: str
    environment: str
    deployments: tuple[DeploymentFacts, ...]
    redeploys: tuple[Deployment, ...]  # same commit as the one running: not counted
    failed_attempts: tuple[Deployment, ...]  # failure/cancelled: the deploy failure rate
    duplicates: int  # events collapsed into another (same commit within the duplicate window)
    incidents: tuple[IncidentLink, ...]  # qualifying incidents with their attribution


def build_histories(
    deployments: Iterable[Deployment],
    incidents: Iterable[DoraIncident],
    config: DoraConfig,
    links: ManualLinks | None = None,
    judgements: Iterable[CanaryJudgement] = (),
) -> dict[tuple[str, str], ServiceHistory]:
    """One ServiceHistory per production (service, environment) with deployments or incidents.

    ``judgements``: the stored canary judgements; a failed one followed by a rollback makes
    the judged deployment the one that failed (reason ``canary``).
    """
    failed_canaries = [j for j in judgements if j.verdict == "fail"]
    prod = config.production_environments
    by_scope: dict[tuple[str, str], list[Deployment]] = {}
    for d in deployments:
        if d.environment in prod:
            by_scope.setdefault((d.service, d.environment), []).append(d)
    incidents_by_scope: dict[tuple[str, str], list[DoraIncident]] = {}
    for i in incidents:
        if i.environment in prod:
            incidents_by_scope.setdefault((i.service, i.environment), []).append(i)
    return {
        scope: _history(
            scope, by_scope.get(scope, []), incidents_by_scope.get(scope, []), config, links or {},
            failed_canaries,
        )
        for scope in sorted({*by_scope, *incidents_by_scope})
    }


def _history(
    scope: tuple[str, str],
    events: list[Deployment],
    incidents: list[DoraIncident],
    config: DoraConfig,
    links: ManualLinks,
    failed_canaries: Sequence[CanaryJudgement] = (),
) -> ServiceHistory:
    unique = sorted({d.key: d for d in events}.values(), key=lambda d: (d.finished, d.version))
    attempts = [d for d in unique if not d.status.completed]
    counted, redeploys, duplicates = _count(
        [d for d in unique if d.status.completed], config, len(events) - len(unique)
    )
    facts = [DeploymentFacts(d) for d in counted]
    _flag_rollbacks_and_hotfixes(facts, config, failed_canaries)
    all_incidents = sorted(incidents, key=lambda i: (i.start, i.id))
    qualifying = [i for i in all_incidents if i.severity in config.severities]
    attributed = [_attribute(i, facts, all_incidents, config, links) for i in qualifying]
    by_key = {f.deployment.key: f for f in facts}
    for link in attributed:
        if link.deployment is not None and link.deployment in by_key:
            by_key[link.deployment].failed_by.append(link.reason.value)
    _recover(facts, attributed, qualifying, config)
    _flag_rework(facts, attributed)
    _lead_times(facts)
    return ServiceHistory(
        scope[0],
        scope[1],
        tuple(facts),
        tuple(redeploys),
        tuple(attempts),
        duplicates,
        tuple(attributed),
    )


def _count(
    completed: Sequence[Deployment], config: DoraConfig, duplicates: int
) -> tuple[list[Deployment], list[Deployment], int]:
    """Counted deployments (E2): a new commit; the same commit again within the duplicate
    window collapses into one dated by the latest event; later it is a redeploy."""
    counted: list[Deployment] = []
    redeploys: list[Deployment] = []
    for d in completed:
        last = counted[-1] if counted else None
        if last is not None and d.sha == last.sha:
            if d.finished - last.finished <= config.duplicate_window:
                counted[-1] = replace(last, finished=d.finished)
                duplicates += 1
            else:
                redeploys.append(d)
            continue
        counted.append(d)
    return counted, redeploys, duplicates


def _flag_rollbacks_and_hotfixes(
    facts: list[DeploymentFacts],
    config: DoraConfig,
    failed_canaries: Sequence[CanaryJudgement] = (),
) -> None:
    """E7 (ii) and (iii): for V1 -> V2 -> V3 -> V1, V2 failed; a hotfix fails its predecessor.

    A rollback right after a deployment whose canary failed (judged after the deployment
    before it, and before the rollback) is that deployment's failure instead: ``canary``.
    """
    last_index: dict[str, int] = {}
    for i, f in enumerate(facts):
        d = f.deployment
        target = last_index.get(d.sha)
        if i > 0 and (target is not None or d.status == DeployStatus.ROLLBACK):
            f.rollback = True
            first = target + 1 if target is not None else i - 1
            for undone in facts[first:i]:
                undone.rolled_back = True
            failed, reason = facts[first], "rollback"
            if _canary_failed(facts, i - 1, d.finished, failed_canaries):
                failed, reason = facts[i - 1], "canary"
            if reason not in failed.failed_by:
                failed.failed_by.append(reason)
        elif i > 0 and config.is_rework_version(d):
            f.hotfix = True
            if "hotfix" not in facts[i - 1].failed_by:
                facts[i - 1].failed_by.append("hotfix")
        last_index[d.sha] = i


def _canary_failed(
    facts: list[DeploymentFacts], index: int, until: datetime,
    failed_canaries: Sequence[CanaryJudgement],
) -> bool:
    """A failed canary judgement of ``facts[index]`` after the deployment before it and no
    later than ``until`` (the rollback)."""
    judged = facts[index].deployment
    after = facts[index - 1].finished if index > 0 else None
    return any(
        j.concerns(judged) and j.at <= until and (after is None or j.at > after)
        for j in failed_canaries
    )


def _attribute(
    incident: DoraIncident,
    facts: list[DeploymentFacts],
    all_incidents: list[DoraIncident],
    config: DoraConfig,
    links: ManualLinks,
) -> IncidentLink:
    """E6: manual override, exact version/SHA label, deployment in effect, or unattributed."""
    if incident.id in links:
        key = links[incident.id]
        if key is None:
            return IncidentLink(incident, None, Attribution.UNATTRIBUTED, "manually unlinked")
        if any(f.deployment.key == key for f in facts):
            return IncidentLink(incident, key, Attribution.MANUAL, "manually linked")
        return IncidentLink(
            incident,
            None,
            Attribution.UNATTRIBUTED,
            f"manually linked to {key}, which is not a counted production deployment",
        )
    label_values = {incident.labels[n] for n in VERSION_LABELS if incident.labels.get(n)}
    exact = [f for f in facts if label_values & {f.deployment.version, f.deployment.sha}]
    if exact:
        before = [f for f in exact if f.finished <= incident.start] or exact
        return IncidentLink(
            incident,
            before[-1].deployment.key,
            Attribution.EXACT,
            f"alert label names {before[-1].deployment.version}",
        )
    earlier = [f for f in facts if f.finished <= incident.start]
    if not earlier:
        return IncidentLink(
            incident, None, Attribution.UNATTRIBUTED, "no production deployment before it"
        )
    candidate = earlier[-1]
    gap = incident.start - candidate.finished
    if gap > config.attribution_window:
        return IncidentLink(
            incident,
            None,
            Attribution.UNATTRIBUTED,
            f"the last deployment ({candidate.deployment.version}) finished {_hours(gap)} "
            f"before it, beyond the {_hours(config.attribution_window)} attribution window",
        )
    for other in all_incidents:
        if (
            other.id != incident.id
            and other.alertname == incident.alertname
            and other.open_at(candidate.finished)
        ):
            return IncidentLink(
                incident,
                None,
                Attribution.UNATTRIBUTED,
                f"{incident.alertname or 'the alert'} was already firing when "
                f"{candidate.deployment.version} was deployed",
            )
    strong = gap <= config.strong_window or candidate.rolled_back
    reason = Attribution.STRONG if strong else Attribution.WEAK
    return IncidentLink(
        incident,
        candidate.deployment.key,
        reason,
        f"{candidate.deployment.version} in effect, deployed {_hours(gap)} before",
    )


def _recover(
    facts: list[DeploymentFacts],
    links: list[IncidentLink],
    qualifying: list[DoraIncident],
    config: DoraConfig,
) -> None:
    """E8: recovered at the earlier of the last attributed incident's end and a remediation
    deployment (the next rollback or hotfix) that no qualifying alert follows within the
    settle period."""
    for i, f in enumerate(facts):
        if not f.failed:
            continue
        own = [link.incident for link in links if link.deployment == f.deployment.key]
        if own:
            f.detection_lag = (min(x.start for x in own) - f.finished).total_seconds()
        options: list[tuple[datetime, str]] = []
        ends = [x.end for x in own]
        if own and all(end is not None for end in ends):
            options.append((max(e for e in ends if e is not None), "incident resolved"))
        fix = next((g for g in facts[i + 1 :] if g.rollback or g.hotfix), None)
        if fix is not None:
            settle_end = fix.finished + config.settle_period
            quiet = not any(
                x.start <= settle_end and (x.end is None or x.end > fix.finished)
                for x in qualifying
            )
            if quiet:
                kind = "rollback" if fix.rollback else "hotfix"
                options.append((fix.finished, f"{kind} {fix.deployment.version}"))
        if options:
            f.recovered_at, f.recovered_by = min(options)


def _flag_rework(facts: list[DeploymentFacts], links: list[IncidentLink]) -> None:
    """E10: a rollback, a hotfix, or a deployment made while its service was failing."""
    attributed = [link.incident for link in links if link.deployment is not None]
    for i, f in enumerate(facts):
        if f.rollback:
            f.rework_reason = "rollback"
        elif f.hotfix:
            f.rework_reason = "hotfix"
        elif any(x.open_at(f.finished) for x in attributed):
            f.rework_reason = "deployed during an attributed incident"
        else:
            for g in facts[:i]:
                if g.failed and g.recovered_at is not None and f.finished <= g.recovered_at:
                    f.rework_reason = f"deployed before {g.deployment.version} recovered"
                    break


def _lead_times(facts: list[DeploymentFacts]) -> None:
    """E4: deploy time minus commit time for each commit first delivered by the deployment;
    without a commit list, the head commit only (a lower bound). Negatives are dropped."""
    delivered: set[str] = set()
    for f in facts:
        d = f.deployment
        if d.commits:
            samples = [
                (d.finished - c.time).total_seconds() for c in d.commits if c.sha not in delivered
            ]
            delivered.update(c.sha for c in d.commits)
        elif d.sha in delivered:
            samples = []
        elif d.commit_time is None:
            f.no_commit_time = True
            samples = []
        else:
            f.head_commit_only = True
            samples = [(d.finished - d.commit_time).total_seconds()]
        delivered.add(d.sha)
        f.lead_times = [s for s in samples if s >= 0]
        f.negative_lead_times = len(samples) - len(f.lead_times)


def _hours(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    hours = seconds / 3600
    return f"{hours:g} h" if hours >= 1 else f"{seconds / 60:g} min"
