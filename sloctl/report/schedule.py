"""The weekly report on ``sloctl serve``'s clock: a cron in the settings' time zone, catch-up
within a grace period, retries with backoff, all in its own thread.

``WeeklySchedule`` computes fire times with APScheduler's ``CronTrigger`` in the zone (Monday
08:00 Europe/Berlin is 07:00 UTC in winter and 06:00 UTC in summer). ``ReportJob`` wakes at each
fire time, and at start: the latest fire time within ``report.grace_seconds`` is due until its
emails are final, so a run missed while sloctl was down is caught up, and a restart re-runs it
harmlessly (the stored inputs and the send records make every step idempotent). It measures the
week that ended before the fire time, stores the scorecards, sends, and retries failed sends
until the grace period ends (then they are ``abandoned``). It never runs in the evaluation
cycle's thread, so a slow SMTP server or backend never delays an evaluation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from sloctl.errors import SloctlError
from sloctl.evaluation.fetch import MetricsBackend
from sloctl.report.measure import inputs_for
from sloctl.report.period import Period, last_complete_week
from sloctl.report.smtp import SmtpTransport
from sloctl.report.weekly import outgoing, publish, send_all
from sloctl.settings import Settings
from sloctl.spec.models import SLOSpec
from sloctl.store import Store
from sloctl.store.reports import SendRecord

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
REPORT_THREAD = "sloctl-report"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WeeklySchedule:
    """Fire times of a cron expression in a time zone (DST-correct), and what is due."""

    def __init__(self, cron: str, tz: tzinfo, grace: timedelta) -> None:
        self.trigger = CronTrigger.from_crontab(cron, timezone=tz)
        self.tz = tz
        self.grace = grace

    def next_fire(self, after: datetime) -> datetime:
        """The first fire time strictly after ``after`` (UTC)."""
        fire = self.trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        assert isinstance(fire, datetime)
        return fire.astimezone(UTC)

    def due(self, now: datetime) -> datetime | None:
        """The latest fire time in ``(now - grace, now]``, or None."""
        latest = None
        fire = self.next_fire(now - self.grace)
        while fire <= now:
            latest = fire
            fire = self.next_fire(fire)
        return latest

    def period_of(self, fire: datetime, zone_name: str) -> Period:
        """The week a fire time reports: the last complete ISO week before it."""
        return last_complete_week(fire, self.tz, zone_name)


class ReportJob:
    """The weekly report thread of ``sloctl serve`` (see the module docstring)."""

    def __init__(
        self, settings: Settings, specs: Sequence[SLOSpec], store: Store,
        source: MetricsBackend, transport: SmtpTransport, *, clock: Clock = _utcnow,
    ) -> None:
        r = settings.report
        self.settings = settings
        self.specs = list(specs)
        self.store = store
        self.source = source
        self.transport = transport
        self.clock = clock
        self.schedule = WeeklySchedule(r.schedule, settings.tzinfo,
                                       timedelta(seconds=r.grace_seconds))
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ReportJob:
        self._thread = threading.Thread(target=self._loop, name=REPORT_THREAD, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop waking up; True when the thread ended within ``timeout``."""
        self._stop.set()
        ended = True
        if self._thread is not None:
            self._thread.join(timeout)
            ended = not self._thread.is_alive()
        close = getattr(self.source, "close", None)
        if ended and close is not None:
            close()
        return ended

    def _wait(self, until: datetime) -> None:
        self._stop.wait(max(0.0, min((until - self.clock()).total_seconds(), 3600.0)))

    def _loop(self) -> None:
        handled: datetime | None = None
        while not self._stop.is_set():
            now = self.clock()
            fire = self.schedule.due(now)
            if fire is not None and fire != handled:
                try:
                    wake = self.run(fire)
                except SloctlError as err:
                    log.warning("weekly report of %s not done yet: %s", fire.isoformat(), err)
                    wake = now + timedelta(seconds=self.settings.report.retry_initial_seconds)
                except Exception:  # a bug must not end the thread: log, retry later
                    log.exception("weekly report of %s failed", fire.isoformat())
                    wake = now + timedelta(seconds=self.settings.report.retry_max_seconds)
                if wake is None:
                    handled = fire
                else:
                    self._wait(min(wake, fire + self.schedule.grace))
                    continue
            self._wait(self.schedule.next_fire(self.clock()))

    def run(self, fire: datetime) -> datetime | None:
        """One pass over the report of ``fire``: None when every email is final (or past the
        grace period, then abandoned), else when to come back."""
        self.runs += 1
        now = self.clock()
        deadline = fire + self.schedule.grace
        period = self.schedule.period_of(fire, self.settings.timezone)
        half = fire + self.schedule.grace / 2
        inputs, stored = inputs_for(period, self.settings, self.specs, self.store, self.source,
                                    now, store_problems=now >= half)
        if not stored:
            problems = "; ".join(inputs.current.problems)
            raise SloctlError(f"the backend answered errors while measuring {period.key} "
                              f"({problems}); measuring again later")
        cards = publish(self.store, inputs, self.settings, now)
        records = send_all(self.store, self.settings, outgoing(cards, self.settings),
                           self.transport, self.clock)
        return self._next_attempt(records, deadline)

    def _next_attempt(self, records: list[SendRecord], deadline: datetime) -> datetime | None:
        """When to try the emails that are not final again; None when all are final, or when
        that would be past the grace period (they are abandoned then)."""
        waiting = [r for r in records if not r.state.final]
        if not waiting:
            return None
        now = self.clock()
        lease = timedelta(seconds=self.settings.report.lease_seconds)
        wake = min(r.next_attempt_at or r.lease_until or now + lease for r in waiting)
        if wake < deadline:
            return wake
        for r in waiting:
            self.store.reports.abandon(r.key, now, "still not sent when the grace period ended "
                                       f"({deadline.isoformat()}): {r.last_error}")
            log.error("report email %s (%s %s) abandoned: %s", r.message_id, r.period, r.scope,
                      r.last_error)
        return None


def report_job(settings: Settings, specs: Sequence[SLOSpec], store: Store) -> ReportJob | None:
    """The job of ``sloctl serve`` when it sends email (an SMTP host and recipients), with its
    own Prometheus client (closed by ``stop``); None otherwise."""
    if not settings.report.sends_email:
        return None
    from sloctl.sources.prometheus import PrometheusSource

    source = PrometheusSource(settings.prometheus)
    return ReportJob(settings, specs, store, source, SmtpTransport(settings.report.smtp))
