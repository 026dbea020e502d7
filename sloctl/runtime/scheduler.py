"""`sloctl serve`: run the evaluation cycle every interval with APScheduler.

One run at a time (``max_instances=1``), missed runs coalesced into one, first run at start,
clean shutdown on SIGTERM and Ctrl-C (the running cycle finishes, nothing is half-written).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


class CycleScheduler:
    """Calls ``cycle()`` every ``interval`` seconds until ``stop()`` or a signal."""

    def __init__(self, cycle: Callable[[], object], interval: int) -> None:
        self.cycle = cycle
        self.interval = interval
        self._stopped = threading.Event()
        self.runs = 0
        self.failures = 0
        self._sched = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": max(interval // 2, 1)},
            timezone=UTC,
        )
        self._sched.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def _run(self) -> None:
        try:
            self.cycle()
        finally:
            self.runs += 1

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            self.failures += 1
            log.error("evaluation cycle failed: %r (the next cycle runs as scheduled)",
                      event.exception)
        else:
            log.warning("evaluation cycle skipped: the previous one was still running")

    def start(self) -> None:
        """Schedule the cycle (first run now) and return; runs in a background thread."""
        self._sched.add_job(self._run, "interval", seconds=self.interval,
                            next_run_time=datetime.now(UTC), id="evaluate")
        self._sched.start()

    def stop(self, wait: bool = True) -> None:
        """Stop scheduling; with ``wait`` the running cycle completes first."""
        if self._sched.running:
            self._sched.shutdown(wait=wait)
        self._stopped.set()

    def run_forever(self, extra_stop: Callable[[], None] | None = None) -> None:
        """Start, then block until SIGTERM/SIGINT; shut down cleanly."""

        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s, finishing the running cycle and stopping",
                     signal.Signals(signum).name)
            self._stopped.set()

        old_term = signal.signal(signal.SIGTERM, handle)
        old_int = signal.signal(signal.SIGINT, handle)
        try:
            self.start()
            while not self._stopped.wait(0.5):
                pass
        finally:
            self.stop(wait=True)
            if extra_stop:
                extra_stop()
            signal.signal(signal.SIGTERM, old_term)
            signal.signal(signal.SIGINT, old_int)
