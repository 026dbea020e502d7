"""Which ``sloctl serve`` replica leads: evaluates, notifies, prunes and sends the weekly report.

    leadership = leadership_for(settings.store_url, store, interval=30, on_change=callback)
    leadership.start()           # PostgreSQL: elects in a thread; SQLite: leads at once
    leadership.is_leader, leadership.role, leadership.replica
    leadership.save_cycle(ev, slot)   # the leader's fenced write of a cycle
    leadership.stop()            # releases the lock: a follower takes over within one poll

PostgreSQL: any number of replicas, one leader at a time by a session advisory lock
(``sloctl.store.leader``). Every replica polls every ``poll_seconds``: a follower tries to take
the lock, the leader checks it still holds it. SQLite: one ``serve`` process per store, always
the leader (a file database is not shared between machines).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sloctl.core.evaluation import Evaluation
from sloctl.errors import StoreError
from sloctl.store import Store
from sloctl.store.database import parse_url
from sloctl.store.leader import LeaderLock

log = logging.getLogger(__name__)

LEADER, FOLLOWER = "leader", "follower"
MAX_POLL_SECONDS = 5.0
OnChange = Callable[[bool], None]


def replica_id() -> str:
    """This process among the replicas: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def poll_seconds(interval: float) -> float:
    """How often replicas poll the lock: a fifth of the interval, between 0.2 s and 5 s, so a
    follower takes over well within one interval of the leader's death."""
    return max(0.2, min(MAX_POLL_SECONDS, interval / 5))


class Leadership:
    """The role of this replica. The base class is the sole leader (SQLite)."""

    backend = "sqlite"

    def __init__(self, store: Store, on_change: OnChange | None = None) -> None:
        self.store = store
        self.replica = replica_id()
        self.changes = 0  # how often the role changed since start
        self.since = datetime.now(UTC)  # when the current role began
        self._on_change = on_change
        self._leading = False
        self._role_lock = threading.Lock()  # the election thread and the cycle's thread

    @property
    def is_leader(self) -> bool:
        return self._leading

    @property
    def role(self) -> str:
        return LEADER if self._leading else FOLLOWER

    def start(self) -> None:
        self._set(True, "the only serve process of a SQLite store")

    def stop(self) -> None:
        self._set(False, "stopping")

    def save_cycle(self, ev: Evaluation, slot: datetime) -> int:
        """Store a serve cycle in its slot (``CycleSlotTaken`` when already stored)."""
        return self.store.evaluations.save(ev, slot=slot)

    def _set(self, leading: bool, why: str) -> None:
        with self._role_lock:
            self._change(leading, why)

    def _change(self, leading: bool, why: str) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        self.changes += 1
        self.since = datetime.now(UTC)
        level = logging.INFO if leading or why == "stopping" else logging.WARNING
        log.log(level, "replica %s is now the %s (%s)", self.replica, self.role, why,
                extra={"event": "leadership", "role": self.role})
        if self._on_change is not None:
            self._on_change(leading)


class ElectedLeadership(Leadership):
    """PostgreSQL: elected through the leader lock, re-checked every ``poll`` seconds."""

    backend = "postgresql"

    def __init__(self, store: Store, url: str, poll: float,
                 on_change: OnChange | None = None) -> None:
        super().__init__(store, on_change)
        self.poll = poll
        self.lock = LeaderLock(url)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self) -> None:
        """Poll once now (so a lone replica leads from its first cycle), then in a thread."""
        self._check()
        if not self._leading:
            log.info("replica %s is a follower: another replica holds the leader lock",
                     self.replica, extra={"event": "leadership", "role": FOLLOWER})
        self._thread = threading.Thread(target=self._loop, name="sloctl-leader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and end the lock's session (a follower takes over at its next poll)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.poll + 5)
        self.lock.close()
        self._set(False, "stopping")

    def save_cycle(self, ev: Evaluation, slot: datetime) -> int:
        try:
            return self.lock.save_cycle(ev, slot)
        finally:
            if not self.lock.leading and self._leading:
                self._set(False, "the leader lock's session ended while storing a cycle")

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            self._check()

    def _check(self) -> None:
        try:
            leading = self.lock.poll()
        except StoreError as err:
            if not self._failing:
                log.warning("leader lock unreachable, this replica cannot lead until the store "
                            "answers: %s", err, extra={"event": "leadership"})
            self._failing = True
            self._set(False, "the store did not answer the leader lock's check")
            return
        if self._failing:
            log.info("leader lock reachable again", extra={"event": "leadership"})
            self._failing = False
        why = "took the free leader lock" if leading else "lost the leader lock"
        self._set(leading, why)


def leadership_for(url: str, store: Store, interval: float,
                   on_change: OnChange | None = None) -> Leadership:
    """Elected leadership for a PostgreSQL store, sole leadership for SQLite."""
    if parse_url(url).get_backend_name() == "postgresql":
        return ElectedLeadership(store, url, poll_seconds(interval), on_change)
    return Leadership(store, on_change)
