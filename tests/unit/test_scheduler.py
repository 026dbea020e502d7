"""The scheduler runs one cycle at a time, survives a failing cycle, and stops cleanly."""

from __future__ import annotations

import threading
import time

from sloctl.runtime.scheduler import CycleScheduler


def test_one_cycle_at_a_time_and_failures_do_not_stop_it() -> None:
    running = 0
    overlap = False
    calls = 0
    lock = threading.Lock()

    def cycle() -> None:
        nonlocal running, overlap, calls
        with lock:
            running += 1
            calls += 1
            overlap |= running > 1
            n = calls
        time.sleep(1.3)  # longer than the interval: the next run must wait, not overlap
        with lock:
            running -= 1
        if n == 1:
            raise RuntimeError("backend exploded")

    sched = CycleScheduler(cycle, interval=1)
    sched.start()
    time.sleep(4.5)
    sched.stop(wait=True)
    assert not overlap
    assert sched.runs >= 2  # the failure of the first run did not stop the schedule
    assert sched.failures == 1
    assert running == 0  # stop(wait=True) let the running cycle finish
