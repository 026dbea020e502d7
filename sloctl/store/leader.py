"""The leader lock of ``sloctl serve`` replicas on one PostgreSQL store, and writes fenced by it.

    lock = LeaderLock(url)
    lock.poll()                    # try to take the lock (a follower) or check it (the leader)
    lock.save_cycle(ev, slot)      # only while leading: written on the lock's own session
    lock.close()                   # end the session: the lock is free at once

A PostgreSQL **session advisory lock** (``pg_try_advisory_lock``) held on a connection of its own.
PostgreSQL releases it the moment the session ends: a leader killed with SIGKILL closes its
socket and a follower's next ``poll`` takes over, with no lease to run out and no clock to trust.
A host that vanishes without closing its socket is noticed by TCP keepalives (about 15 s).

Fencing: the leader writes its cycles on that same session, so a write can only commit while
the session (and so the lock) lives; a leader whose session died fails to store and learns it
lost the lock. The ``cycle_slot`` unique column (``store.evaluations``) guards the rest.
Advisory locks are per database: stores in different databases of one server elect apart.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from sloctl.core.evaluation import Evaluation
from sloctl.errors import StoreError
from sloctl.store.database import CONNECT_TIMEOUT_SECONDS, parse_url, store_error
from sloctl.store.evaluations import write_cycle

LEADER_KEY = int.from_bytes(b"sloctl:L", "big")  # the advisory lock's bigint key
KEEPALIVE_SECONDS = 5  # idle before the first TCP keepalive; then 2 s apart, 3 probes
_TRY = text("SELECT pg_try_advisory_lock(:key)")
_HOLDS = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = CAST(:hi AS oid) AND objid = CAST(:lo AS oid)"
    " AND objsubid = 1)"
)


class NotLeader(StoreError):
    """A leader-only write was attempted by a replica that does not hold the leader lock."""


def _connect_args() -> dict[str, object]:
    keepalive = (f"-c tcp_keepalives_idle={KEEPALIVE_SECONDS} -c tcp_keepalives_interval=2 "
                 "-c tcp_keepalives_count=3")
    return {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": "sloctl leader lock",
        "keepalives": 1, "keepalives_idle": KEEPALIVE_SECONDS, "keepalives_interval": 2,
        "keepalives_count": 3, "tcp_user_timeout": 15_000,  # client side (TCP only)
        "options": keepalive,  # server side: the session of a vanished host ends
    }


class LeaderLock:
    """The advisory lock on one dedicated session (see the module docstring). Thread-safe."""

    def __init__(self, url: str, key: int = LEADER_KEY) -> None:
        self.url = url
        self.key = key
        if parse_url(url).get_backend_name() != "postgresql":
            raise StoreError(f"the leader lock needs a PostgreSQL store; {url!r} is not one")
        # NullPool: a broken session is never silently replaced by a new one without the lock
        self._engine = create_engine(parse_url(url), poolclass=NullPool,
                                     connect_args=_connect_args())
        self._conn: Connection | None = None
        self._leading = False
        self._mutex = threading.Lock()

    @property
    def leading(self) -> bool:
        """True while this process holds the lock (as of the last ``poll``)."""
        return self._leading

    def poll(self) -> bool:
        """Take the lock if it is free, or check it is still ours; True while leading.

        Raises ``StoreError`` when the store cannot be reached; leadership is then lost.
        """
        with self._mutex:
            try:
                if self._conn is None:
                    self._conn = self._engine.connect()
                with self._conn.begin():
                    if self._leading:
                        held = self._conn.scalar(
                            _HOLDS, {"hi": self.key >> 32, "lo": self.key & 0xFFFFFFFF})
                    else:
                        held = self._conn.scalar(_TRY, {"key": self.key})
            except SQLAlchemyError as err:
                self._drop()
                raise store_error("checking the leader lock of", self.url, err) from err
            self._leading = bool(held)
            return self._leading

    def save_cycle(self, ev: Evaluation, slot: datetime) -> int:
        """Store a serve cycle on the lock's session (fenced); raises ``NotLeader`` when this
        process does not lead, ``CycleSlotTaken`` when the slot is stored already."""
        with self._mutex:
            conn = self._conn
            if conn is None or not self._leading:
                raise NotLeader(f"the cycle at {ev.at.isoformat()} is not stored: this replica "
                                "no longer holds the leader lock")
            try:
                with conn.begin():
                    return write_cycle(conn, ev, slot)
            except SQLAlchemyError as err:
                if conn.invalidated or getattr(err, "connection_invalidated", False):
                    self._drop()  # the session (and the lock) is gone
                raise store_error("saving an evaluation (as the leader) to", self.url,
                                  err) from err

    def close(self) -> None:
        """End the session (the lock, if held, is released by PostgreSQL). Idempotent."""
        with self._mutex:
            self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        conn, self._conn, self._leading = self._conn, None, False
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError):  # a dead session: nothing to release
                conn.close()
