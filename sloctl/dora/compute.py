"""DORA figures over a window: the four keys, time to restore and rework rate (dora.md E3-E11).

Input: ``ServiceHistory`` facts (``dora_history.build_histories``) for one service, a team or the
whole organisation; roll-ups pool the events (medians over all samples, never means of means).
Every figure carries its sample size, a level from the report-year tables (or why there is none),
the house goal and the previous period's value. The caller passes the time zone: core stays pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from sloctl.dora.history import Attribution, DeploymentFacts, ServiceHistory
from sloctl.dora.levels import (
    DaysMeasure,
    Level,
    Metric,
    ReportTable,
    grade_days,
    grade_upper,
    report_table,
)
from sloctl.dora.model import DoraConfig

LOWER_IS_BETTER = {
    Metric.LEAD_TIME,
    Metric.CHANGE_FAILURE_RATE,
    Metric.RECOVERY_TIME,
    Metric.TIME_TO_RESTORE,
    Metric.REWORK_RATE,
}
FAILURE_REASON_ORDER = (
    Attribution.MANUAL.value,
    Attribution.EXACT.value,
    "canary",  # a failed canary judgement, then a rollback
    "rollback",
    "hotfix",
    Attribution.STRONG.value,
    Attribution.WEAK.value,
)


@dataclass(frozen=True)
class Goal:
    """The house target of a figure and whether the figure meets it (None: unknown)."""

    text: str
    met: bool | None


@dataclass(frozen=True)
class Figure:
    """One metric over the window. Durations in seconds, rates as ratios."""

    metric: Metric
    value: float | None
    unit: str
    n: int  # sample size: deployments, lead-time commits, recoveries or incidents
    report_year: int
    level: Level | None = None
    no_level_reason: str | None = None
    p90: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    goal: Goal | None = None
    lower_bound: bool = False
    previous: float | None = None
    notes: tuple[str, ...] = ()
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def trend(self) -> str | None:
        """'better', 'worse' or 'same' than the previous period; None if either is unknown."""
        if self.value is None or self.previous is None:
            return None
        if math.isclose(self.value, self.previous, rel_tol=1e-9, abs_tol=1e-12):
            return "same"
        improved = self.value < self.previous
        if self.metric not in LOWER_IS_BETTER:
            improved = not improved
        return "better" if improved else "worse"


@dataclass(frozen=True)
class Scorecard:
    """The DORA figures of one scope (a service/environment, a team or the organisation)."""

    scope: str
    since: datetime
    until: datetime
    services: tuple[str, ...]
    figures: tuple[Figure, ...]
    redeploys: int
    failed_attempts: int
    duplicates: int
    data_quality: Mapping[str, int]
    open_failures: tuple[tuple[str, float], ...]  # (deployment, age in seconds at ``until``)

    @property
    def deploy_failure_rate(self) -> float | None:
        """Failed deploy attempts / all attempts (E2): reported apart from CFR."""
        attempts = self.failed_attempts + self.figure(Metric.DEPLOYMENT_FREQUENCY).n
        return self.failed_attempts / attempts if attempts else None

    def figure(self, metric: Metric) -> Figure:
        return next(f for f in self.figures if f.metric == metric)


def percentile(values: Iterable[float], q: float) -> float | None:
    """Interpolated percentile (PERCENTILE_CONT semantics); None for no values."""
    xs = sorted(values)
    if not xs:
        return None
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def scorecard(
    histories: Sequence[ServiceHistory],
    since: datetime,
    until: datetime,
    tz: tzinfo,
    config: DoraConfig,
    scope: str,
) -> Scorecard:
    """The DORA figures of ``histories`` pooled, for deployments finished in [since, until)."""
    table = report_table(config.report_year)

    def inside(at: datetime | None) -> bool:
        return at is not None and since <= at < until

    facts = [f for h in histories for f in h.deployments]
    window = [f for f in facts if inside(f.finished)]
    services = tuple(sorted({h.service for h in histories}))
    gate = _gate(len(window), config)
    incidents = [link for h in histories for link in h.incidents]
    figures = (
        _frequency(window, since, until, tz, config, table, gate, max(len(services), 1)),
        _lead_time(window, config, table, gate),
        _change_failure_rate(window, config, table, gate),
        _recovery_time(
            [f for f in facts if f.failed and inside(f.recovered_at)], config, table, gate
        ),
        _time_to_restore(
            [
                (x.incident.end - x.incident.start).total_seconds()
                for x in incidents
                if inside(x.incident.end) and x.incident.end is not None
            ],
            config,
            table,
            gate,
        ),
        _rework_rate(window, table, gate, config),
    )
    open_failures = tuple(
        (str(f.deployment.key), (until - f.finished).total_seconds())
        for f in facts
        if f.failed and f.recovered_at is None and f.finished < until
    )
    quality = {
        "unattributed_incidents": sum(
            1
            for x in incidents
            if x.reason == Attribution.UNATTRIBUTED and inside(x.incident.start)
        ),
        "deployments_without_commit_time": sum(1 for f in window if f.no_commit_time),
        "negative_lead_times_dropped": sum(f.negative_lead_times for f in window),
        "head_commit_only_deployments": sum(1 for f in window if f.head_commit_only),
    }
    return Scorecard(
        scope=scope,
        since=since,
        until=until,
        services=services,
        figures=figures,
        redeploys=sum(1 for h in histories for d in h.redeploys if inside(d.finished)),
        failed_attempts=sum(1 for h in histories for d in h.failed_attempts if inside(d.finished)),
        duplicates=sum(h.duplicates for h in histories),
        data_quality=quality,
        open_failures=open_failures,
    )


def scorecard_with_trend(
    histories: Sequence[ServiceHistory],
    since: datetime,
    until: datetime,
    tz: tzinfo,
    config: DoraConfig,
    scope: str,
) -> Scorecard:
    """``scorecard`` with each figure's value for the previous period of the same length."""
    current = scorecard(histories, since, until, tz, config, scope)
    before = scorecard(histories, since - (until - since), since, tz, config, scope)
    figures = tuple(replace(f, previous=before.figure(f.metric).value) for f in current.figures)
    return replace(current, figures=figures)


def rollups(
    histories: Mapping[tuple[str, str], ServiceHistory],
    teams: Mapping[str, Sequence[str]],
    since: datetime,
    until: datetime,
    tz: tzinfo,
    config: DoraConfig,
    card: Callable[..., Scorecard] = scorecard_with_trend,
) -> list[Scorecard]:
    """Scorecards per service/environment, per team (``teams``: team -> services) and org."""
    cards = [
        card([h], since, until, tz, config, f"{service}/{env}")
        for (service, env), h in sorted(histories.items())
    ]
    for team, members in sorted(teams.items()):
        group = [h for h in histories.values() if h.service in members]
        if group:
            cards.append(card(group, since, until, tz, config, f"team {team}"))
    cards.append(card(list(histories.values()), since, until, tz, config, "organisation"))
    return cards


# -- the figures ------------------------------------------------------------------------------


def _gate(deployments: int, config: DoraConfig) -> str | None:
    if deployments < config.min_deployments:
        return (
            f"only {deployments} deployment(s) in the window; a level needs at least "
            f"{config.min_deployments}"
        )
    return None


def _graded(
    metric: Metric, value: float | None, n: int, table: ReportTable, gate: str | None
) -> tuple[Level | None, str | None]:
    if gate is not None:
        return None, gate
    if metric in table.no_table_reason:
        return None, table.no_table_reason[metric]
    if value is None or n == 0:
        return None, "no samples in the window"
    bands = table.durations.get(metric) or table.rates.get(metric)
    if bands is None:
        return None, f"no {table.year} table for {metric.value}"
    return grade_upper(bands, value), None


def _local_dates(since: datetime, until: datetime, tz: tzinfo) -> list[date]:
    first = since.astimezone(tz).date()
    last = (until - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _median_days(
    groups: dict[tuple[int, int], list[date]], days: set[date], size: Callable[[date], int]
) -> float:
    """Median deployment days per week or month, over complete ones if any (else all)."""
    whole = [g for g in groups.values() if len(g) == size(g[0])]
    counts = [sum(1 for d in g if d in days) for g in (whole or list(groups.values()))]
    return percentile(counts, 0.5) or 0.0


def _month_length(day: date) -> int:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (following - first).days


def _frequency(
    window: list[DeploymentFacts],
    since: datetime,
    until: datetime,
    tz: tzinfo,
    config: DoraConfig,
    table: ReportTable,
    gate: str | None,
    services: int,
) -> Figure:
    dates = _local_dates(since, until, tz)
    per_day = {d: 0 for d in dates}
    for f in window:
        local = f.finished.astimezone(tz).date()
        per_day[local] = per_day.get(local, 0) + 1
    weeks: dict[tuple[int, int], list[date]] = {}
    months: dict[tuple[int, int], list[date]] = {}
    per_week: dict[str, int] = {}
    for d in dates:
        year, week, _ = d.isocalendar()
        weeks.setdefault((year, week), []).append(d)
        months.setdefault((d.year, d.month), []).append(d)
        name = f"{year}-W{week:02d}"
        per_week[name] = per_week.get(name, 0) + per_day[d]
    deploy_days = {d for d, count in per_day.items() if count}
    measures = {
        DaysMeasure.WEEKLY_MEDIAN: _median_days(weeks, deploy_days, lambda _: 7),
        DaysMeasure.MONTHLY_MEDIAN: _median_days(months, deploy_days, _month_length),
        DaysMeasure.IN_WINDOW: float(len(deploy_days)),
    }
    window_days = (until - since).total_seconds() / 86400
    per_day_mean = len(window) / window_days if window_days > 0 else None
    per_service = None if per_day_mean is None else per_day_mean / services
    goal_value = config.goals.deploys_per_day_per_service
    goal = Goal(
        f">= {goal_value:g} deployments/day/service",
        None if per_service is None else per_service >= goal_value,
    )
    level = None if gate else grade_days(table.frequency, measures)
    return Figure(
        metric=Metric.DEPLOYMENT_FREQUENCY,
        value=per_day_mean,
        unit="deployments/day",
        n=len(window),
        report_year=table.year,
        level=level,
        no_level_reason=gate,
        goal=goal,
        details={
            "per_day": {d.isoformat(): c for d, c in sorted(per_day.items())},
            "per_week": per_week,
            "per_day_per_service": per_service,
            **{m.name.lower(): v for m, v in measures.items()},
        },
    )


def _lead_time(
    window: list[DeploymentFacts], config: DoraConfig, table: ReportTable, gate: str | None
) -> Figure:
    samples = [s for f in window for s in f.lead_times]
    median = percentile(samples, 0.5)
    level, reason = _graded(Metric.LEAD_TIME, median, len(samples), table, gate)
    lower_bound = any(f.head_commit_only for f in window)
    notes = []
    if lower_bound:
        notes.append("head-commit lead time (lower bound) for deployments without a commit list")
    negatives = sum(f.negative_lead_times for f in window)
    if negatives:
        notes.append(f"{negatives} negative lead time(s) dropped (rebased or squashed commits)")
    goal_s = config.goals.lead_time_seconds
    return Figure(
        metric=Metric.LEAD_TIME,
        value=median,
        unit="seconds",
        n=len(samples),
        report_year=table.year,
        level=level,
        no_level_reason=reason,
        p90=percentile(samples, 0.9),
        goal=Goal(f"< {_duration(goal_s)}", None if median is None else median < goal_s),
        lower_bound=lower_bound,
        notes=tuple(notes),
    )


def _change_failure_rate(
    window: list[DeploymentFacts], config: DoraConfig, table: ReportTable, gate: str | None
) -> Figure:
    eligible = [f for f in window if not f.rollback]
    failed = [f for f in eligible if f.failed]
    value = len(failed) / len(eligible) if eligible else None
    by_reason: dict[str, int] = {}
    for f in failed:
        primary = min(f.failed_by, key=FAILURE_REASON_ORDER.index)
        by_reason[primary] = by_reason.get(primary, 0) + 1
    if gate is None and len(eligible) < config.min_deployments:
        gate = (
            f"only {len(eligible)} deployment(s) besides rollbacks; a level needs at least "
            f"{config.min_deployments}"
        )
    level, reason = _graded(Metric.CHANGE_FAILURE_RATE, value, len(eligible), table, gate)
    goal = config.goals.change_failure_rate
    return Figure(
        metric=Metric.CHANGE_FAILURE_RATE,
        value=value,
        unit="ratio",
        n=len(eligible),
        report_year=table.year,
        level=level,
        no_level_reason=reason,
        numerator=len(failed),
        denominator=len(eligible),
        goal=Goal(f"< {goal * 100:g} %", None if value is None else value < goal),
        details={
            "failed_by": dict(sorted(by_reason.items())),
            "rollbacks_excluded": len(window) - len(eligible),
        },
    )


def _recovery_time(
    recovered: list[DeploymentFacts], config: DoraConfig, table: ReportTable, gate: str | None
) -> Figure:
    samples = [
        (f.recovered_at - f.finished).total_seconds()
        for f in recovered
        if f.recovered_at is not None
    ]
    return _duration_figure(
        Metric.RECOVERY_TIME,
        samples,
        config.goals.restore_seconds,
        table,
        gate,
        details={
            "recovered_by": sorted({f.recovered_by or "" for f in recovered}),
            "median_detection_lag": percentile(
                [f.detection_lag for f in recovered if f.detection_lag is not None], 0.5
            ),
        },
    )


def _time_to_restore(
    samples: list[float], config: DoraConfig, table: ReportTable, gate: str | None
) -> Figure:
    return _duration_figure(
        Metric.TIME_TO_RESTORE, samples, config.goals.restore_seconds, table, gate, details={}
    )


def _duration_figure(
    metric: Metric,
    samples: list[float],
    goal_s: float,
    table: ReportTable,
    gate: str | None,
    details: Mapping[str, object],
) -> Figure:
    median = percentile(samples, 0.5)
    level, reason = _graded(metric, median, len(samples), table, gate)
    return Figure(
        metric=metric,
        value=median,
        unit="seconds",
        n=len(samples),
        report_year=table.year,
        level=level,
        no_level_reason=reason,
        p90=percentile(samples, 0.9),
        goal=Goal(f"< {_duration(goal_s)}", None if median is None else median < goal_s),
        details=details,
    )


def _rework_rate(
    window: list[DeploymentFacts], table: ReportTable, gate: str | None, config: DoraConfig
) -> Figure:
    rework = [f for f in window if f.rework]
    value = len(rework) / len(window) if window else None
    level, reason = _graded(Metric.REWORK_RATE, value, len(window), table, gate)
    reasons: dict[str, int] = {}
    for f in rework:
        key = f.rework_reason or ""
        key = key if key in ("rollback", "hotfix") else "during a failure"
        reasons[key] = reasons.get(key, 0) + 1
    return Figure(
        metric=Metric.REWORK_RATE,
        value=value,
        unit="ratio",
        n=len(window),
        report_year=table.year,
        level=level,
        no_level_reason=reason,
        numerator=len(rework),
        denominator=len(window),
        notes=(
            "beta: rework = rollback, hotfix/revert "
            f"({', '.join(config.rework_patterns)}) or deployed while failing",
        ),
        details={"rework_by": dict(sorted(reasons.items()))},
    )


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min"
