"""Deployment events read from the observability stack: Loki log lines and Prometheus build info.

Loki: one JSON log line per deployment (``dora.sources.loki_selector``) with the native event's
field names (or a GitHub ``deployment_status`` body); ``service`` and ``environment`` may come
from the stream's labels instead. Each line is parsed by ``parse_deployment_event``; a bad line is
counted with its reason, never half stored.

Prometheus: a change of the version label of a build-info series (``*_build_info`` or
``target_info`` with ``service_version``) per service and environment is a deployment, found
with a range query at ``step_seconds``: its finish time is the first step at which the new
version is seen (so it is known to the step, and late by up to one scrape interval). The version
seen first in the range, or when a service first appears in it, is the baseline, not a
deployment. Without a commit-time label the lead time is unknown (the event has no
``commit_time``); without a commit label the version stands in for the commit SHA.

Every import is idempotent (the store's key is service, environment, version, finish time), so
``sloctl serve`` re-reads an overlap each time (``DeployImportJob``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sloctl.dora.deploy_events import (
    DeployEventError,
    NativeDeploymentEvent,
    is_github_body,
    parse_deployment_event,
)
from sloctl.dora.model import Deployment, DeployStatus
from sloctl.errors import SloctlError
from sloctl.settings import DeploySourceSettings, Settings
from sloctl.sources.logql import deployment_lines
from sloctl.sources.loki import LokiSource
from sloctl.sources.prometheus import PrometheusSource, RangeSeries
from sloctl.sources.promql import build_info_versions
from sloctl.store.deployments import Deployments

log = logging.getLogger(__name__)

SourceName = Literal["loki", "prometheus"]
SOURCES: tuple[SourceName, ...] = ("loki", "prometheus")
MAX_LINES = 100_000  # deployment lines read per Loki import
MAX_POINTS = 10_000  # per series and range query (Prometheus refuses more than 11,000)
EVERY = timedelta(minutes=5)
OVERLAP = timedelta(minutes=10)  # re-read by each serve import: late Loki lines, step edges
FIRST_LOOKBACK = timedelta(days=1)  # what serve's first import reads
LEAD_TIME_UNKNOWN = "lead time unknown: commit time not available from Prometheus build info"
_NATIVE_FIELDS = frozenset(NativeDeploymentEvent.model_fields)
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")


class DeploySourceOff(SloctlError):
    """A deployment source was asked for but is not configured."""


@dataclass(frozen=True)
class BadEvent:
    """An input that is not a deployment: when it was logged or sampled, and why."""

    at: datetime
    reason: str
    excerpt: str = ""


@dataclass
class ImportReport:
    """What one import read and stored."""

    source: SourceName
    since: datetime
    until: datetime
    created: list[Deployment] = field(default_factory=list)
    updated: list[Deployment] = field(default_factory=list)
    bad: list[BadEvent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the backend failed; nothing more was read

    @property
    def deployments(self) -> list[Deployment]:
        return [*self.created, *self.updated]


# --- Loki ---


def loki_event_body(
    line: str, labels: Mapping[str, str], service_label: str, env: DeploySourceSettings
) -> dict[str, Any]:
    """The event object of one log line; ``service``/``environment`` default to stream labels.

    Raises DeployEventError when the line is not a JSON object. Keys that are not native field
    names are dropped (log lines carry ``level``, ``msg``, ...), GitHub bodies are kept whole.
    """
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DeployEventError([("<line>", f"is not JSON ({exc.msg} at char {exc.pos})")]) from None
    if not isinstance(data, dict):
        raise DeployEventError([("<line>", "must be a JSON object with the event's fields")])
    if is_github_body(data):
        return data
    body = {k: v for k, v in data.items() if k in _NATIVE_FIELDS}
    if "service" not in body:
        for name in (service_label, "service", "service_name"):
            if labels.get(name):
                body["service"] = labels[name]
                break
    if "environment" not in body:
        label = env.environment_label
        body["environment"] = labels.get(label, "") if label else ""
        body["environment"] = body["environment"] or env.environment
    return body


def import_from_loki(
    settings: Settings,
    store: Deployments,
    loki: LokiSource,
    since: datetime,
    until: datetime,
    now: datetime,
) -> ImportReport:
    """Read, parse and record the deployment lines of ``[since, until)`` (source "loki")."""
    sources = settings.dora.sources
    if sources.loki_selector is None:
        raise DeploySourceOff(
            "Loki deployment events are off; set dora.sources.loki_selector, e.g. "
            '{app="deployer"}, in sloctl.yaml'
        )
    report = ImportReport("loki", since, until)
    page = loki.entries(
        deployment_lines(sources.loki_selector), since, until, limit=MAX_LINES, direction="forward"
    )
    if page.truncated:
        report.notes.append(
            f"more than {MAX_LINES} lines: only the first were read; import a shorter range"
        )
    report.notes += [f"Loki warning: {w}" for w in page.warnings]
    for entry in page.entries:
        try:
            body = loki_event_body(entry.line, entry.labels, settings.loki.service_label, sources)
            event = parse_deployment_event(body, now)
        except DeployEventError as exc:
            report.bad.append(BadEvent(entry.time, str(exc), entry.line[:200]))
            continue
        _record(store, event, "loki", now, report)
    return report


# --- Prometheus ---


@dataclass(frozen=True)
class _Seen:
    """One build-info series' labels: who runs what."""

    scope: tuple[str, str, str]  # service, environment, metric name
    version: str
    sha: str
    commit_time: datetime | None


def build_info_query(sources: DeploySourceSettings) -> str:
    """The range query: one series per service, environment, version and commit labels."""
    if sources.prometheus_build_info is None:
        raise DeploySourceOff(
            "Prometheus build-info deployments are off; set dora.sources.prometheus_build_info "
            "to a metric name or regex such as .*_build_info or target_info in sloctl.yaml"
        )
    labels = [sources.service_label, sources.version_label]
    labels += [
        name
        for name in (sources.commit_label, sources.commit_time_label, sources.environment_label)
        if name is not None and name not in labels
    ]
    return build_info_versions(sources.prometheus_build_info, labels)


def _commit_time(value: str) -> datetime | None:
    """Unix seconds or ISO 8601 with a zone; None when empty; ValueError when unreadable."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"commit time {value!r} is out of range") from exc
    except ValueError:
        parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"commit time {value!r} has no time zone")
    return parsed.astimezone(UTC)


def _seen(series: RangeSeries, sources: DeploySourceSettings) -> _Seen | str:
    """The series' labels read into a ``_Seen``, or why they cannot be."""
    labels = series.labels
    service = labels.get(sources.service_label, "")
    version = labels.get(sources.version_label, "")
    if not service or not version:
        missing = sources.service_label if not service else sources.version_label
        return f"series {dict(labels)} has no {missing} label; set dora.sources.*_label"
    env = labels.get(sources.environment_label, "") if sources.environment_label else ""
    commit = labels.get(sources.commit_label, "") if sources.commit_label else ""
    sha = commit.lower() if _SHA.fullmatch(commit) else version[:64]
    raw_time = labels.get(sources.commit_time_label, "") if sources.commit_time_label else ""
    try:
        commit_time = _commit_time(raw_time)
    except ValueError:
        return f"{service} {version}: commit time label {raw_time!r} is not a timestamp"
    scope = (service, env or sources.environment, labels.get("__name__", ""))
    return _Seen(scope, version, sha, commit_time)


def version_changes(
    series: Sequence[RangeSeries], sources: DeploySourceSettings
) -> tuple[list[Deployment], list[BadEvent]]:
    """Deployments from build-info series: per scope, each step at which a version appears
    that was not running at the scope's previous sampled step (a rollback included)."""
    bad: list[BadEvent] = []
    at_step: dict[tuple[str, str, str], dict[float, list[_Seen]]] = {}
    for s in series:
        seen = _seen(s, sources)
        if isinstance(seen, str):
            first = s.points[0][0] if s.points else 0.0
            bad.append(BadEvent(datetime.fromtimestamp(first, UTC), seen))
            continue
        steps = at_step.setdefault(seen.scope, {})
        for ts, _value in s.points:
            steps.setdefault(ts, []).append(seen)
    out: list[Deployment] = []
    for (service, env, _name), steps in sorted(at_step.items()):
        before: set[str] | None = None
        for ts in sorted(steps):
            now_running = {s.version: s for s in steps[ts]}
            if before is not None:
                for version in sorted(set(now_running) - before):
                    new = now_running[version]
                    out.append(
                        Deployment(
                            service=service,
                            environment=env,
                            version=version,
                            sha=new.sha,
                            finished=datetime.fromtimestamp(ts, UTC),
                            status=DeployStatus.SUCCESS,
                            commit_time=new.commit_time,
                        )
                    )
            before = set(now_running)
    out.sort(key=lambda d: (d.finished, d.service, d.environment, d.version))
    return out, bad


def _steps(since: datetime, until: datetime, step: int) -> list[tuple[datetime, datetime]]:
    """``[since, until]`` aligned down to multiples of ``step`` (so every import samples the
    same instants and finish times repeat exactly), cut into chunks of MAX_POINTS steps."""
    first = int(since.timestamp()) // step * step
    last = int(until.timestamp()) // step * step
    chunks = []
    while first <= last:
        end = min(first + (MAX_POINTS - 1) * step, last)
        chunks.append((datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(end, UTC)))
        first = end + step
    return chunks


def import_from_prometheus(
    settings: Settings,
    store: Deployments,
    prometheus: PrometheusSource,
    since: datetime,
    until: datetime,
    now: datetime,
) -> ImportReport:
    """Record the build-info version changes of ``[since, until]`` (source "prometheus")."""
    sources = settings.dora.sources
    query = build_info_query(sources)
    report = ImportReport("prometheus", since, until)
    merged: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    for start, end in _steps(since, until, sources.step_seconds):
        for s in prometheus.query_range(query, start, end, sources.step_seconds):
            merged.setdefault(tuple(sorted(s.labels.items())), []).extend(s.points)
    series = [RangeSeries(dict(k), tuple(points)) for k, points in merged.items()]
    events, report.bad = version_changes(series, sources)
    for event in events:
        _record(store, event, "prometheus", now, report)
    if any(e.commit_time is None for e in events):
        report.notes.append(f"{LEAD_TIME_UNKNOWN} (set dora.sources.commit_time_label)")
    report.notes.append(
        f"finish times are the first {sources.step_seconds} s step at which a version was seen"
    )
    return report


# --- both, for serve and the CLI ---


def _record(
    store: Deployments, event: Deployment, source: str, now: datetime, report: ImportReport
) -> None:
    recorded = store.record(event, source, now)
    (report.created if recorded.created else report.updated).append(event)


def enabled_sources(settings: Settings) -> list[SourceName]:
    sources = settings.dora.sources
    on = {"loki": sources.loki_selector, "prometheus": sources.prometheus_build_info}
    return [name for name in SOURCES if on[name] is not None]


def import_source(
    name: SourceName, settings: Settings, store: Deployments, since: datetime, now: datetime
) -> ImportReport:
    """One source over ``[since, now]``; raises SloctlError (backend, store, source off)."""
    if name == "loki":
        with LokiSource(settings.loki) as loki:
            return import_from_loki(settings, store, loki, since, now, now)
    prometheus = PrometheusSource(settings.prometheus)
    try:
        return import_from_prometheus(settings, store, prometheus, since, now, now)
    finally:
        prometheus.close()


def ingest_deployments(
    settings: Settings,
    store: Deployments,
    now: datetime,
    since: datetime,
    sources: Collection[SourceName] | None = None,
) -> list[ImportReport]:
    """Import every enabled source (or ``sources``) over ``[since, now]``; never raises: a
    failing source's report carries the error, and the other sources still run."""
    reports = []
    for name in enabled_sources(settings) if sources is None else sources:
        try:
            report = import_source(name, settings, store, since, now)
        except SloctlError as exc:
            report = ImportReport(name, since, now, error=str(exc))
        reports.append(report)
    return reports


@dataclass
class DeployImportJob:
    """The serve cycle's step: ``maybe_run`` imports when ``every`` has passed, over the time
    since the last successful import plus ``OVERLAP`` (``FIRST_LOOKBACK`` the first time)."""

    settings: Settings
    store: Deployments
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    last_run: datetime | None = None  # the last attempt (throttle)
    last_success: datetime | None = None  # the next import reads from here minus OVERLAP

    @property
    def every(self) -> timedelta:
        return timedelta(seconds=self.settings.dora.sources.every_seconds)

    def maybe_run(self) -> list[ImportReport] | None:
        """Import unless off or the last import is younger than ``every``; never raises."""
        now = self.clock()
        if not enabled_sources(self.settings):
            return None
        if self.last_run is not None and now - self.last_run < self.every:
            return None
        done = self.last_success
        since = now - FIRST_LOOKBACK if done is None else done - OVERLAP
        self.last_run = now
        reports = ingest_deployments(self.settings, self.store, now, since)
        for r in reports:
            if r.error is not None:
                log.warning("deployments from %s not imported: %s", r.source, r.error)
            else:
                log.info(
                    "deployments from %s: %d new, %d seen again, %d bad",
                    r.source,
                    len(r.created),
                    len(r.updated),
                    len(r.bad),
                )
        if all(r.error is None for r in reports):
            self.last_success = now
        return reports


def lead_time_note(data_quality: Mapping[str, int]) -> str | None:
    """The scorecard's lead-time note when deployments lack a commit time (build info)."""
    count = data_quality.get("deployments_without_commit_time", 0)
    if not count:
        return None
    return (
        f"{LEAD_TIME_UNKNOWN} (or a GitHub event without payload.commit_time) for {count} "
        "deployment(s); set dora.sources.commit_time_label"
    )
