"""Send sloctl's own alert states to Alertmanager with API v2 (``POST /api/v2/alerts``).

``build_alerts`` turns one :class:`Evaluation` into the ``postableAlerts`` body: firing alerts
(re-sent every cycle) and resolved alerts (``endsAt`` = when they resolved); pending and inactive
alerts are not sent. Firing alerts carry ``endsAt`` = end of the cycle + ``valid_for`` (the
notifier uses 4 x the evaluation interval, as Prometheus does): they stay active between re-sends
whatever Alertmanager's ``resolve_timeout`` is, and expire by themselves if sloctl stops sending.

``AlertmanagerNotifier`` posts from one background thread, so ``submit`` never blocks an
evaluation. Only the newest submitted state is kept (coalesced). Unreachable Alertmanager or
5xx: warning, retried with exponential backoff (1 s, 2 s, ... capped at the interval) until the
next submit replaces the payload. 4xx: the body is logged as an error and the payload dropped.
Resolved alerts are kept until one POST carrying them succeeds, so a resolution that happened
while Alertmanager was down is still delivered after it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import httpx

from sloctl.core import alert_rules
from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.errors import BackendError, SettingsError
from sloctl.settings import AlertmanagerSettings, Settings
from sloctl.sources.http_errors import FAILURES, Endpoint, request_error, status_error

log = logging.getLogger(__name__)

Json = dict[str, Any]

SENT_STATES = (AlertState.FIRING, AlertState.RESOLVED)


def alert_name(rule: str) -> str:
    """Alertmanager ``alertname`` of a rule id: ``error_ratio`` -> ``ServiceErrorRatioHigh``."""
    return alert_rules.alertname(rule)


def rfc3339(at: datetime) -> str:
    """``2025-03-01T12:00:00.000Z`` (UTC, milliseconds), the form Alertmanager itself prints."""
    text = at.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _percent(ratio: float | None) -> str:
    return "unknown" if ratio is None else f"{ratio * 100:.2f} %"


def _millis(seconds: float | None) -> str:
    return "unknown" if seconds is None else f"{seconds * 1000:.0f} ms"


def _burn(rate: float | None) -> str:
    return "unknown" if rate is None else f"{rate:.1f}x"


def _number(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.4g}"


def _over(*windows: str | None) -> str:
    known = [w for w in windows if w]
    return f" over {'/'.join(known)}" if len(known) == len(windows) else ""


def summary_and_description(alert: AlertStatus) -> tuple[str, str]:
    """Human text of one alert, with the measured value against the threshold."""
    labels = alert.labels
    defn = alert_rules.definition(alert.rule)
    summary = (
        alert_rules.summary(defn, service=alert.service, slo_id=alert.slo_id,
                            threshold=alert.threshold, window=labels.get("window"))
        if defn is not None else f"{alert.service}: {alert.rule} above {_number(alert.threshold)}"
    )
    if alert.rule == "error_ratio":
        measured = (
            f"{alert.service}: error ratio {_percent(alert.value)} vs "
            f"{_percent(alert.threshold)}{_over(labels.get('window'))}"
        )
    elif alert.rule == "latency_p95":
        measured = (
            f"{alert.service}: p95 latency {_millis(alert.value)} vs "
            f"{_millis(alert.threshold)}{_over(labels.get('window'))}"
        )
    elif alert.rule.startswith("slo_burn_rate"):
        slo = alert.slo_id or alert.service
        measured = (
            f"{slo}: burn {_burn(alert.value)} vs {_burn(alert.threshold)}"
            f"{_over(labels.get('long_window'), labels.get('short_window'))}"
        )
    elif defn is alert_rules.METRIC_ABSENT:
        measured = f"{alert.slo_id}: no series match its metrics"
    else:
        measured = (
            f"{alert.service}: {alert.rule} {_number(alert.value)} vs {_number(alert.threshold)}"
        )
    if alert.value is None and alert.reason:
        measured += f" ({alert.reason})"
    return summary, measured


def alert_labels(alert: AlertStatus) -> dict[str, str]:
    """The identity of the alert in Alertmanager: the labels Prometheus' generated rule sends
    for the same condition (``sloctl.core.alert_rules``), so the two are one alert."""
    return alert_rules.identity_labels(alert)


def postable_alert(
    alert: AlertStatus,
    ev: Evaluation,
    *,
    dashboard_url: str,
    runbook_url: str,
    generator_url: str | None = None,
    valid_for: timedelta | None = None,
) -> Json:
    """One element of the ``postableAlerts`` array for a firing or resolved alert."""
    if alert.state not in SENT_STATES:
        raise ValueError(f"only firing or resolved alerts are sent; {alert.key} is {alert.state}")
    labels = alert_labels(alert)
    summary, description = summary_and_description(alert)
    body: Json = {
        "labels": labels,
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": alert_rules.runbook_url(runbook_url, labels["alertname"]),
            "dashboard": dashboard_url,
        },
        "startsAt": rfc3339(alert.fired_at or alert.active_since or ev.at),
    }
    if alert.state is AlertState.RESOLVED:
        body["endsAt"] = rfc3339(alert.resolved_at or ev.at)
    elif valid_for is not None:
        body["endsAt"] = rfc3339(ev.finished_at + valid_for)
    if generator_url:
        body["generatorURL"] = generator_url
    return body


def build_alerts(
    ev: Evaluation,
    *,
    dashboard_url: str,
    runbook_url: str,
    generator_url: str | None = None,
    valid_for: timedelta | None = None,
) -> list[Json]:
    """The ``POST /api/v2/alerts`` body for ``ev``: its firing and resolved alerts, by key.

    ``valid_for`` sets firing alerts' ``endsAt`` to ``ev.finished_at + valid_for``; without it
    they have no ``endsAt`` and Alertmanager applies its ``resolve_timeout`` (default 5m).
    """
    return [
        postable_alert(
            a,
            ev,
            dashboard_url=dashboard_url,
            runbook_url=runbook_url,
            generator_url=generator_url,
            valid_for=valid_for,
        )
        for a in ev.alerts
        if a.state in SENT_STATES
    ]


@dataclass(frozen=True)
class NotifierStats:
    """Counters of one notifier, for logs and tests."""

    submitted: int = 0  # evaluations handed to submit()
    sent: int = 0  # successful POSTs
    failed: int = 0  # failed POST attempts (unreachable or 5xx), retried
    rejected: int = 0  # payloads Alertmanager refused with 4xx, dropped
    last_error: str | None = None
    last_sent_at: datetime | None = None
    pending_resolved: int = 0  # resolved alerts not yet acknowledged by Alertmanager


class _Outcome(Enum):
    SENT = "sent"
    RETRY = "retry"
    REJECTED = "rejected"


_Identity = frozenset[tuple[str, str]]


class AlertmanagerNotifier:
    """Posts each submitted evaluation's alerts to Alertmanager from one background thread."""

    def __init__(
        self,
        settings: AlertmanagerSettings,
        *,
        dashboard_url: str,
        interval_seconds: int,
        generator_url: str | None = None,
        retry_initial_seconds: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if settings.url is None:
            raise SettingsError(
                "alertmanager.url is not set, so sloctl's alerts cannot be sent; set "
                "SLOCTL_ALERTMANAGER_URL (e.g. http://127.0.0.1:9093) or create no notifier"
            )
        self.url = f"{settings.url}/api/v2/alerts"
        self.endpoint = Endpoint(
            "alertmanager",
            self.url,
            name="Alertmanager",
            timeout_seconds=settings.timeout_seconds,
            check_url="Check alertmanager.url / SLOCTL_ALERTMANAGER_URL",
            timeout_fix="raise alertmanager.timeout_seconds or check Alertmanager",
        )
        self.dashboard_url = dashboard_url
        self.runbook_url = settings.runbook_url
        self.generator_url = generator_url or dashboard_url
        self.valid_for = timedelta(seconds=4 * interval_seconds)
        self._retry_initial = retry_initial_seconds
        self._retry_max = max(float(interval_seconds), retry_initial_seconds)
        self._client = httpx.Client(timeout=settings.timeout_seconds, transport=transport)
        self._cond = threading.Condition()
        self._firing: list[Json] = []
        self._resolved: dict[_Identity, Json] = {}
        self._generation = 0  # bumped by every submit
        self._attempted = 0  # generation of the last POST attempt
        self._done = 0  # newest generation delivered or dropped
        self._closing = False
        self._failures = 0  # consecutive failed attempts
        self._stats = NotifierStats()
        self._thread = threading.Thread(target=self._run, name="sloctl-alertmanager", daemon=True)
        self._thread.start()

    @property
    def stats(self) -> NotifierStats:
        with self._cond:
            return replace(self._stats, pending_resolved=len(self._resolved))

    def submit(self, ev: Evaluation) -> None:
        """Queue ``ev``'s alerts for sending and return at once; replaces any unsent payload."""
        firing: list[Json] = []
        resolved: dict[_Identity, Json] = {}
        for alert in ev.alerts:
            if alert.state not in SENT_STATES:
                continue
            body = postable_alert(
                alert,
                ev,
                dashboard_url=self.dashboard_url,
                runbook_url=self.runbook_url,
                generator_url=self.generator_url,
                valid_for=self.valid_for,
            )
            if alert.state is AlertState.FIRING:
                firing.append(body)
            else:
                resolved[frozenset(body["labels"].items())] = body
        with self._cond:
            if self._closing:
                log.warning("alertmanager notifier is closed; alerts of %s not sent", ev.at)
                return
            for body in firing:  # fired again: the new firing alert supersedes the resolution
                self._resolved.pop(frozenset(body["labels"].items()), None)
            self._resolved.update(resolved)
            self._firing = firing
            self._generation += 1
            self._stats = replace(self._stats, submitted=self._stats.submitted + 1)
            self._cond.notify_all()

    def discard(self) -> None:
        """Drop whatever is not sent yet, retries included (this replica stopped leading: the
        new leader sends from its own cycles)."""
        with self._cond:
            self._firing = []
            self._resolved.clear()
            self._attempted = self._done = self._generation
            self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted so far is delivered (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._generation
            while self._done < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout: float = 2.0) -> None:
        """Stop the worker: one last try for an unsent payload, no retries, at most ``timeout``."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning(
                "alertmanager notifier: gave up waiting for %s after %.1f s; "
                "the last alert states may not have been delivered",
                self.url,
                timeout,
            )

    def __enter__(self) -> AlertmanagerNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- worker thread -------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self._retry_initial
        retry_at: float | None = None
        try:
            while True:
                with self._cond:
                    while True:
                        if self._generation > self._attempted:  # a new state: send it now
                            backoff = self._retry_initial
                            break
                        if self._closing:
                            return
                        if retry_at is not None and self._done < self._generation:
                            wait = retry_at - time.monotonic()
                            if wait <= 0:
                                break
                            self._cond.wait(wait)
                        else:
                            self._cond.wait()
                    generation = self._attempted = self._generation
                    resolved = dict(self._resolved)
                    body = [*self._firing, *resolved.values()]
                outcome = self._post(body) if body else _Outcome.SENT
                with self._cond:
                    if outcome is _Outcome.RETRY:
                        retry_at = time.monotonic() + backoff
                        backoff = min(backoff * 2, self._retry_max)
                    else:
                        retry_at = None
                        for identity, alert in resolved.items():  # acknowledged or refused
                            if self._resolved.get(identity) is alert:
                                del self._resolved[identity]
                        self._done = max(self._done, generation)
                    self._cond.notify_all()
        finally:
            self._client.close()

    def _post(self, body: Sequence[Json]) -> _Outcome:
        request = f"POST of {len(body)} alerts"
        try:
            answer = self._client.post(self.url, json=list(body))
        except FAILURES as exc:
            return self._failed(request_error(exc, self.endpoint, request=request))
        except Exception:  # a bug must not kill the worker; never retry it
            log.exception("alertmanager notifier: unexpected error posting to %s", self.url)
            self._record(rejected=1, last_error="unexpected error, see the log")
            return _Outcome.REJECTED
        if answer.is_success:
            if self._failures:
                log.info(
                    "alertmanager at %s reachable again after %d failed attempts",
                    self.url,
                    self._failures,
                )
            self._failures = 0
            self._record(sent=1, last_sent_at=datetime.now(UTC))
            return _Outcome.SENT
        error = status_error(self.endpoint, answer.status_code, answer.content, request=request)
        if answer.status_code >= 500:
            return self._failed(error)
        message = (
            f"{error}; {self.url} rejected the payload as invalid (a sloctl bug, please report "
            "it with this message); dropped"
        )
        log.error("%s", message)
        self._record(rejected=1, last_error=message)
        return _Outcome.REJECTED

    def _failed(self, error: BackendError) -> _Outcome:
        self._failures += 1
        level = logging.WARNING if self._failures == 1 else logging.DEBUG
        log.log(level, "%s; retrying (attempt %d)", error, self._failures)
        self._record(failed=1, last_error=str(error))
        return _Outcome.RETRY

    def _record(
        self,
        *,
        sent: int = 0,
        failed: int = 0,
        rejected: int = 0,
        last_error: str | None = None,
        last_sent_at: datetime | None = None,
    ) -> None:
        with self._cond:
            s = self._stats
            self._stats = replace(
                s,
                sent=s.sent + sent,
                failed=s.failed + failed,
                rejected=s.rejected + rejected,
                last_error=last_error if last_error is not None else s.last_error,
                last_sent_at=last_sent_at or s.last_sent_at,
            )


def notifier_from_settings(settings: Settings) -> AlertmanagerNotifier | None:
    """The notifier ``sloctl serve`` uses, or None when ``alertmanager.url`` is not set."""
    if settings.alertmanager.url is None:
        return None
    return AlertmanagerNotifier(
        settings.alertmanager,
        dashboard_url=settings.dashboard_url,
        interval_seconds=settings.interval_seconds,
    )


__all__ = [
    "AlertmanagerNotifier",
    "NotifierStats",
    "alert_labels",
    "alert_name",
    "build_alerts",
    "notifier_from_settings",
    "postable_alert",
    "rfc3339",
    "summary_and_description",
]
