"""The daemon behind ``sloctl serve``: the runtime's one composition root.

    daemon = Daemon(settings, specs, interval=30).start()  # traces, store, HTTP, notifier, schedule
    print(daemon.http_url)                                 # /metrics and the webhooks, one port
    daemon.run_until_stopped()                             # until SIGTERM / Ctrl-C, then stop()

Every interval (APScheduler, one cycle at a time, on the interval's grid): on the leader
(``runtime.leadership``: elected on PostgreSQL, always on SQLite) the ``Evaluator`` runs a cycle
and stores it in its slot (at most one stored cycle per slot, whichever replica runs it), then
the after-cycle jobs run in order: the Alertmanager notifier (queues and returns), the trace
step, the DORA scorecards, the deployment import, the store's daily prune (bounded per run).
Each job is isolated: one that fails is logged and the others still run. The weekly report runs
on the leader only. Every replica serves HTTP: webhooks, ``/metrics``, ``/healthz``, ``/readyz``.

``stop()`` is graceful and bounded. No cycle starts any more; the running one gets
``cycle_grace_seconds`` to finish, else it is abandoned: its sources refuse further queries and
its result is neither stored nor sent (queries already in flight end within their backend's
timeout). Then the HTTP server (about 1 s for in-flight requests), the notifier (one last try,
``NOTIFIER_CLOSE_SECONDS``), the traces (``SHUTDOWN_BUDGET_SECONDS``) and the store are closed.
The leader lock is released first, so a follower takes over at its next poll.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.dora.deploy_sources import DeployImportJob
from sloctl.dora.incidents import load_dora_incidents
from sloctl.dora.job import DoraJob
from sloctl.errors import StoreError
from sloctl.evaluation.cycle import Evaluator
from sloctl.report.schedule import ReportJob, report_job
from sloctl.runtime import trace_step
from sloctl.runtime.alertmanager import AlertmanagerNotifier, notifier_from_settings
from sloctl.runtime.http import HttpServer, create_app
from sloctl.runtime.leadership import Leadership, leadership_for
from sloctl.runtime.prune import PruneJob, budget_for, policy
from sloctl.runtime.readiness import Readiness, RoleCollector
from sloctl.runtime.scheduler import CycleScheduler, slot_of
from sloctl.runtime.telemetry import Tracing, install_tracing
from sloctl.settings import Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.models import SLOSpec
from sloctl.store import Store
from sloctl.store.evaluations import CycleSlotTaken
from sloctl.store.leader import NotLeader

__all__ = ["CYCLE_GRACE_SECONDS", "NOTIFIER_CLOSE_SECONDS", "AfterCycleJob", "Daemon"]

log = logging.getLogger(__name__)

CYCLE_GRACE_SECONDS = 5.0  # how long stop() waits for the running cycle before abandoning it
NOTIFIER_CLOSE_SECONDS = 2.0  # the notifier's last try at sending the newest alert states
_POLL_SECONDS = 0.2  # how often run_until_stopped looks at the signal flag


@dataclass(frozen=True)
class AfterCycleJob:
    """A step run after each stored cycle, with the cycle's evaluation."""

    name: str
    run: Callable[[Evaluation], object]


class _CycleStore:
    """The store as the Evaluator sees it: saves through the leadership (fenced, one cycle per
    slot) and refuses to save the result of an abandoned cycle."""

    def __init__(self, store: Store, abandoned: threading.Event, leadership: Leadership,
                 interval: int) -> None:
        self._store = store
        self._abandoned = abandoned
        self._leadership = leadership
        self._interval = interval

    def alert_states(self) -> dict[str, AlertStatus]:
        return self._store.alert_states()

    def alert_states_before(self, at: datetime) -> dict[str, AlertStatus]:
        return self._store.alert_states_before(at)

    def save_evaluation(self, ev: Evaluation) -> int:
        if self._abandoned.is_set():
            raise StoreError(
                f"the cycle at {ev.at.isoformat()} was abandoned while sloctl stopped; its "
                "result is not stored"
            )
        return self._leadership.save_cycle(ev, slot_of(ev.at, self._interval))


class Daemon:
    """Evaluates ``specs`` every ``interval`` seconds (default: ``settings.interval_seconds``),
    serves HTTP on ``receiver.host``/``port`` and sends alerts to Alertmanager when configured.

    ``tracing=False`` leaves the process's OpenTelemetry set-up alone (an embedding program
    that installed its own tracer provider; tests that start several daemons in one process).
    """

    def __init__(
        self,
        settings: Settings,
        specs: list[SLOSpec],
        *,
        interval: int | None = None,
        cycle_grace_seconds: float = CYCLE_GRACE_SECONDS,
        tracing: bool = True,
    ) -> None:
        self.settings = settings
        self.specs = specs
        self.interval = interval or settings.interval_seconds
        self.cycle_grace_seconds = cycle_grace_seconds
        self._want_tracing = tracing
        self.tracing = Tracing()
        self.store: Store | None = None
        self.source: PrometheusSource | None = None
        self.evaluator: Evaluator | None = None
        self.notifier: AlertmanagerNotifier | None = None
        self.http: HttpServer | None = None
        self.scheduler: CycleScheduler | None = None
        self.jobs: list[AfterCycleJob] = []
        self.report: ReportJob | None = None  # the weekly email, in its own thread (leader)
        self.leadership: Leadership | None = None
        self.last_evaluation: Evaluation | None = None
        self._abandoned = threading.Event()
        self._stop_requested = threading.Event()
        self._signalled: int | None = None
        self._lock = threading.Lock()
        self._state = "new"  # new -> running -> stopped

    @property
    def http_url(self) -> str | None:
        """Base URL of the HTTP server (``/metrics``, ``/healthz``, webhooks), if it runs."""
        return self.http.url if self.http is not None else None

    @property
    def cycles(self) -> int:
        """Cycles run so far (failed ones included)."""
        return self.scheduler.runs if self.scheduler is not None else 0

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> Daemon:
        """Build and start every part; the first cycle starts at once, in the background.

        Raises ``SloctlError`` (address in use, store unusable) after closing what started.
        """
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"the daemon is {self._state}; build a new one to start again")
            self._state = "running"
        settings = self.settings
        try:
            if self._want_tracing:
                self.tracing = install_tracing(settings)
            self.store = store = Store(settings.store_url)
            self.leadership = leadership = leadership_for(
                settings.store_url, store, self.interval, self._on_leadership)
            self.source = PrometheusSource(settings.prometheus)
            self.evaluator = Evaluator(
                settings, self.specs, self.source,
                _CycleStore(store, self._abandoned, leadership, self.interval),
            )
            self.notifier = notifier_from_settings(settings)
            self.jobs = self._after_cycle_jobs(store)
            if settings.receiver.enabled:
                self.http = HttpServer(settings, store, app=self._app(store)).start()
            self.scheduler = CycleScheduler(self.run_cycle, self.interval)
            leadership.start()  # PostgreSQL: the first poll; the report job starts if leading
            self.scheduler.start()
        except BaseException:
            self._close_parts()
            with self._lock:
                self._state = "stopped"
            raise
        return self

    def run_until_stopped(self, ready: Callable[[], object] | None = None) -> bool:
        """Run until SIGTERM or SIGINT (handled when called from the main thread) or
        ``request_stop()``, then ``stop()``; returns what ``stop()`` returns. ``ready`` is
        called once started, the signals routed from before the start (HTTP answers during it),
        so a SIGTERM at any point stops gracefully."""
        restore = self._handle_signals()
        try:
            if self._state == "new":
                self.start()
            if ready is not None:
                ready()
            while self._signalled is None and not self._stop_requested.wait(_POLL_SECONDS):
                pass
            if self._signalled is not None:
                log.info("received %s: stopping", signal.Signals(self._signalled).name)
            return self.stop()
        finally:
            restore()

    def request_stop(self) -> None:
        """Make ``run_until_stopped`` stop (from any thread)."""
        self._stop_requested.set()

    def stop(self) -> bool:
        """Stop gracefully, within the bounds of the module docstring. Idempotent.

        Returns False when the running cycle had to be abandoned.
        """
        with self._lock:
            if self._state != "running":
                return True
            self._state = "stopped"
        self._stop_requested.set()
        finished = True
        if self.scheduler is not None:
            self.scheduler.stop(wait=False)
            finished = self.scheduler.wait_idle(self.cycle_grace_seconds)
            if not finished:
                self._abandoned.set()
                log.warning(
                    "the running evaluation cycle did not finish within %.1f s: abandoned, its "
                    "result is neither stored nor sent", self.cycle_grace_seconds,
                )
        self._close_parts()
        return finished

    def __enter__(self) -> Daemon:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- one cycle -----------------------------------------------------------------------------

    def run_cycle(self) -> Evaluation | None:
        """On the leader, one cycle, stored, then the after-cycle jobs (what the schedule runs);
        None on a follower, or when the cycle was not stored (slot taken, leadership lost)."""
        assert self.evaluator is not None, "start() the daemon first"
        if self.leadership is None or not self.leadership.is_leader:
            return None
        try:
            ev = self.evaluator.run_cycle()
        except (CycleSlotTaken, NotLeader) as err:
            log.info("cycle not stored: %s", err, extra={"event": "cycle_skipped"})
            return None
        self.run_jobs(ev)
        self.last_evaluation = ev
        firing = sum(1 for a in ev.alerts if a.state is AlertState.FIRING)
        seconds = (ev.finished_at - ev.started_at).total_seconds()
        log.info("evaluated %d SLOs, %d signals, %d alerts firing, %d problems in %.2f s",
                 len(ev.slos), len(ev.signals), firing, len(ev.problems), seconds,
                 extra={"event": "cycle", "at": ev.at.isoformat(), "slos": len(ev.slos),
                        "alerts_firing": firing, "problems": len(ev.problems),
                        "queries": ev.query_count, "duration_seconds": round(seconds, 3)})
        for p in ev.problems:
            log.warning("problem: %s", p)
        return ev

    def run_jobs(self, ev: Evaluation) -> None:
        """The after-cycle jobs on a stored cycle, in order; one failing never stops the next."""
        for job in self.jobs:
            if self._abandoned.is_set():
                break
            try:
                job.run(ev)
            except Exception:  # one job's failure must not cost the others
                log.exception("after-cycle step %r failed; the next cycle runs as scheduled",
                              job.name)

    def _after_cycle_jobs(self, store: Store) -> list[AfterCycleJob]:
        settings = self.settings
        jobs = []
        if self.notifier is not None:  # first, and never blocks: alerts must not wait
            jobs.append(AfterCycleJob("alertmanager", self.notifier.submit))
        jobs.append(AfterCycleJob(
            "trace step", lambda ev: trace_step.after_cycle(ev, settings, store)
        ))
        dora = DoraJob(store, settings,
                       lambda: load_dora_incidents(store, settings, datetime.now(UTC)))
        jobs.append(AfterCycleJob("DORA scorecards", lambda _ev: dora.maybe_run()))
        deployments = DeployImportJob(settings, store.deployments)
        jobs.append(AfterCycleJob("deployment import", lambda _ev: deployments.maybe_run()))
        prune = PruneJob(store, policy(settings.retention), budget_for(self.interval))
        jobs.append(AfterCycleJob("store prune", lambda _ev: prune.maybe_run()))  # daily
        return jobs

    # -- leadership ----------------------------------------------------------------------------

    def _on_leadership(self, leading: bool) -> None:
        """Start the leader's own work when this replica leads; drop it when it stops leading."""
        if leading:
            if self.report is None and self.store is not None:
                self.report = report_job(self.settings, self.specs, self.store)
                if self.report is not None:
                    self.report.start()
            if self.scheduler is not None and self._state == "running":
                self.scheduler.run_now()  # evaluate at once (a slot already stored is skipped)
            return
        if self._state != "running":  # stopping: the report stops and the notifier flushes
            return
        if self.notifier is not None:
            self.notifier.discard()  # the new leader sends from its own cycles
        report, self.report = self.report, None
        if report is not None:
            report.stop()

    def _app(self, store: Store) -> Any:
        """The HTTP app with this replica's readiness and role on /metrics."""
        assert self.leadership is not None
        evaluator = self

        def backend_failed() -> bool | None:
            if evaluator.last_evaluation is None or evaluator.evaluator is None:
                return None
            return evaluator.evaluator.last_unreachable

        readiness = Readiness(store.reader(), self.interval, self.leadership, backend_failed)
        return create_app(self.settings, store, readiness=readiness,
                          collectors=[RoleCollector(self.leadership)])

    # -- plumbing ------------------------------------------------------------------------------

    def _handle_signals(self) -> Callable[[], None]:
        """Route SIGTERM and SIGINT to the stop flag; returns the undo. Main thread only."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handle(signum: int, _frame: FrameType | None) -> None:
            self._signalled = signum  # a plain store: locks are unsafe in a signal handler

        previous: dict[int, Any] = {
            sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)
        }

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def _close_parts(self) -> None:
        """Close whatever was built, newest first; each part's own close is bounded."""
        if self.report is not None:
            self.report.stop()
        if self.leadership is not None:
            self.leadership.stop()  # releases the leader lock: a follower takes over
        if self.http is not None:
            self.http.stop()
        if self.notifier is not None:
            self.notifier.close(NOTIFIER_CLOSE_SECONDS)
        if self.source is not None:
            self.source.close()
        log_source = self.evaluator.log_source if self.evaluator is not None else None
        if log_source is not None:
            log_source.close()
        self.tracing.shutdown()
        if self.store is not None:
            self.store.close()
