"""The daily prune of ``sloctl serve``: the store's retention, applied after a cycle.

``PruneJob.maybe_run`` runs after each stored cycle (in the cycle's thread, so never during a
cycle's write) and prunes once a day: the first cycle after start, then a day after the last
complete prune. Each run stops after ``budget`` seconds, between two transactions; an unfinished
prune goes on after the next cycle until it completes (``sloctl.store.retention``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sloctl.errors import SloctlError
from sloctl.settings import RetentionSettings
from sloctl.store import Store
from sloctl.store.retention import PruneReport, RetentionPolicy

log = logging.getLogger(__name__)

EVERY = timedelta(days=1)
RETRY = timedelta(hours=1)  # after a failed prune (store unreachable, ...)
MAX_BUDGET_SECONDS = 15.0  # per run; and at most a quarter of the interval


def policy(settings: RetentionSettings) -> RetentionPolicy:
    """The store's retention policy from the settings."""
    return RetentionPolicy(settings.raw_days, settings.hourly_days, settings.daily_days)


def budget_for(interval_seconds: int) -> float:
    """Seconds one run may take: a quarter of the interval, at most ``MAX_BUDGET_SECONDS``."""
    return max(1.0, min(MAX_BUDGET_SECONDS, interval_seconds / 4))


@dataclass
class PruneJob:
    """Prunes ``store`` once a day, ``budget`` seconds at a time (see the module docstring)."""

    store: Store
    policy: RetentionPolicy
    budget: float
    every: timedelta = EVERY
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    last_done: datetime | None = None  # when the last complete prune started
    next_try: datetime | None = None  # after a failure

    def due(self, now: datetime) -> bool:
        if self.next_try is not None and now < self.next_try:
            return False
        return self.last_done is None or now - self.last_done >= self.every

    def maybe_run(self) -> PruneReport | None:
        """Prune for at most ``budget`` seconds when due; never raises a SloctlError (a store
        problem is logged and retried after ``RETRY``)."""
        now = self.clock()
        if not self.due(now):
            return None
        try:
            report = self.store.retention.prune(now, self.policy, budget=self.budget)
        except SloctlError as err:
            self.next_try = now + RETRY
            log.warning("store prune failed, retried in %s: %s", RETRY, err)
            return None
        self.next_try = None
        deleted = sum(report.deleted.values())
        if report.finished:
            self.last_done = now
            log.info("store pruned: %d rows deleted, %d roll-ups written in %.1f s", deleted,
                     sum(report.rolled_up.values()), report.seconds)
        else:
            log.info("store prune paused after %.1f s (%d rows deleted); it goes on after the "
                     "next cycle", report.seconds, deleted)
        return report
