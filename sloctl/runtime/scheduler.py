"""The evaluation schedule of ``sloctl serve``: the cycle every interval, with APScheduler.

One run at a time (one worker thread), missed runs coalesced into one. The first run is at
start (and ``run_now`` adds one, e.g. when a replica becomes the leader); the others fall on the
interval's grid (multiples of the interval since the Unix epoch), so every replica agrees on the
slot a cycle belongs to (``slot_of``). ``stop`` ends the schedule; ``wait_idle`` waits (bounded)
for the running cycle, and no cycle starts once stopping has begun. Signals and the rest of the
shutdown are the daemon's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

CYCLE_THREAD = "sloctl-cycle"  # name prefix of the thread the cycles run in


def slot_of(at: datetime, interval: int) -> datetime:
    """The start of the interval slot holding ``at`` (a multiple of ``interval`` seconds since
    the Unix epoch)."""
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % interval, UTC)


class CycleScheduler:
    """Calls ``cycle()`` every ``interval`` seconds in a background thread until ``stop()``."""

    def __init__(self, cycle: Callable[[], object], interval: int) -> None:
        self.cycle = cycle
        self.interval = interval
        self.runs = 0
        self.failures = 0
        self._idle = threading.Condition()
        self._active = 0  # cycles running now (0 or 1)
        self._stopping = False
        self._sched = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(
                max_workers=1, pool_kwargs={"thread_name_prefix": CYCLE_THREAD})},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": max(interval // 2, 1)},
            timezone=UTC,
        )
        self._sched.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def _run(self) -> None:
        with self._idle:
            if self._stopping:  # submitted just before stop(): do not start a cycle now
                return
            self._active += 1
        try:
            self.cycle()
        finally:
            with self._idle:
                self._active -= 1
                self.runs += 1
                self._idle.notify_all()

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            self.failures += 1
            log.error("evaluation cycle failed: %r (the next cycle runs as scheduled)",
                      event.exception)
        else:
            log.warning("evaluation cycle skipped: the previous one was still running")

    @property
    def busy(self) -> bool:
        """True while a cycle runs."""
        with self._idle:
            return self._active > 0

    def start(self) -> None:
        """Schedule the cycle (first run now, then on the grid) and return; runs in a
        background thread."""
        now = datetime.now(UTC)
        grid = slot_of(now, self.interval) + timedelta(seconds=self.interval)
        self._sched.add_job(self._run, "interval", seconds=self.interval, start_date=grid,
                            id="evaluate")
        self.run_now()
        self._sched.start()

    def run_now(self) -> None:
        """One extra cycle as soon as the worker is free (the grid goes on as before)."""
        self._sched.add_job(self._run, "date", run_date=datetime.now(UTC), id="evaluate-now",
                            replace_existing=True, misfire_grace_time=None)

    def stop(self, wait: bool = True) -> None:
        """Stop scheduling; with ``wait`` the running cycle completes first (unbounded)."""
        with self._idle:
            self._stopping = True
        if self._sched.running:
            self._sched.shutdown(wait=wait)

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the running cycle; True when none runs."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True
