"""Bounded connections for ``sloctl serve``'s HTTP: timeouts, a cap, a fast 503, few log lines.

uvicorn's h11 protocol, subclassed (``uvicorn.Config(http=...)`` takes the class), with every
connection in one ``Guard``: what the client still owes decides its deadline, read from h11's
own state (``conn.their_state``):

==============================  ==========================  ====================================
phase                           closed after                evicted at the cap
==============================  ==========================  ====================================
fresh (no byte yet)             ``idle_timeout``            first (oldest first)
head (request line, headers)    ``header_timeout``          second
keep-alive (answered, idle)     ``idle_timeout`` (uvicorn)  third
body (head done, body coming)   ``body_timeout``            fourth
busy (the app is answering)     never by the guard          never
==============================  ==========================  ====================================

A slow head or body is answered 408 as it is closed. A new connection beyond
``max_connections`` closes the oldest evictable one; when none is (every connection is being
answered), the newcomer gets a canned 503 and is closed before any of its bytes are read. The
cap stays below the open-file limit (``fd_budget``), so the accept loop never hits EMFILE.
Nothing is logged per connection: ``Guard`` counts what it closed and logs one summary line per
``SUMMARY_SECONDS`` at most.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

FD_RESERVE = 128  # open files kept for the store, backends, threads and logs
TRIM_AFTER = 256  # connections at a peak after which freed memory goes back to the system
SWEEP_SECONDS = 0.5
SUMMARY_SECONDS = 10.0
PHASES = ("fresh", "head", "keepalive", "body")  # eviction order; "busy" is never evicted


def _canned(status: str, body: bytes, extra: bytes = b"") -> bytes:
    head = (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
            f"content-length: {len(body)}\r\n").encode()
    return head + extra + b"\r\n" + body


_503 = _canned(
    "503 Service Unavailable",
    b'{"error": "too many connections to sloctl; retry in a second"}',
    b"retry-after: 1\r\n",
)
_408 = _canned("408 Request Timeout", b'{"error": "the request did not arrive in time"}')


@dataclass(frozen=True)
class Limits:
    """The guard's settings (``receiver.*``)."""

    max_connections: int = 2048
    idle_timeout: float = 5.0
    header_timeout: float = 10.0
    body_timeout: float = 20.0


def fd_budget(wanted: int) -> int:
    """``wanted`` connections, or fewer if the open-file limit cannot hold them; raises the soft
    limit towards the hard one first (within it, never above)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft - FD_RESERVE))


class Guard:
    """Every connection of one server, by phase; sweeps deadlines and evicts at the cap."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.cap = fd_budget(limits.max_connections)
        self.phases: dict[str, dict[GuardedH11Protocol, float]] = {p: {} for p in PHASES}
        self.busy: set[GuardedH11Protocol] = set()
        self.closed: Counter[str] = Counter()  # why connections were closed, since the summary
        self._loop: asyncio.AbstractEventLoop | None = None
        self._summary_at = time.monotonic()
        self._trim_at_peak = False
        self.peak = 0

    @property
    def count(self) -> int:
        return len(self.busy) + sum(len(d) for d in self.phases.values())

    def deadline(self, phase: str) -> float:
        return {
            "fresh": self.limits.idle_timeout,
            "head": self.limits.header_timeout,
            "keepalive": self.limits.idle_timeout + 1.0,  # uvicorn closes these first
            "body": self.limits.body_timeout,
        }[phase]

    def admit(self, proto: GuardedH11Protocol, loop: asyncio.AbstractEventLoop) -> bool:
        """Make room for ``proto``: False when the cap is full of busy connections."""
        if self._loop is None:
            self._loop = loop
            loop.call_later(SWEEP_SECONDS, self._sweep)
        while self.count >= self.cap:
            victim = self._oldest_evictable()
            if victim is None:
                self.closed["refused with 503 (all connections busy)"] += 1
                return False
            self.closed[f"evicted at the cap ({victim.phase})"] += 1
            victim.close(timed_out=False)
        self.move(proto, "fresh")
        self.peak = max(self.peak, self.count)
        return True

    def move(self, proto: GuardedH11Protocol, phase: str | None) -> None:
        """Put ``proto`` in ``phase`` ("busy", one of PHASES, or None when gone)."""
        old = proto.phase
        if old == phase:
            return
        if old == "busy":
            self.busy.discard(proto)
        elif old is not None:
            self.phases[old].pop(proto, None)
        proto.phase = phase
        if phase == "busy":
            self.busy.add(proto)
        elif phase is not None:
            self.phases[phase][proto] = time.monotonic()

    def _oldest_evictable(self) -> GuardedH11Protocol | None:
        """The oldest connection of the first phase that has one. A client that just connected
        is the newest: with accept batches of an eighth of the cap (``accept_batch``), it is
        read before it could become the oldest."""
        for phase in PHASES:
            if self.phases[phase]:
                return next(iter(self.phases[phase]))
        return None

    @property
    def accept_batch(self) -> int:
        """How many connections asyncio accepts per turn (the backlog given to uvicorn): an
        eighth of the cap, so a new connection, read about four turns after its accept, is
        read before later batches make it the oldest."""
        return min(512, max(16, self.cap // 8))

    def _sweep(self) -> None:
        now = time.monotonic()
        for phase in PHASES:
            limit = self.deadline(phase)
            expired = []
            for proto, since in self.phases[phase].items():  # oldest first: stop at a young one
                if now - since <= limit:
                    break
                expired.append(proto)
            for proto in expired:
                self.closed[f"{phase} past {limit:g} s"] += 1
                proto.close(timed_out=phase in ("head", "body"))
        if now - self._summary_at >= SUMMARY_SECONDS:
            self._summarise(now)
        if self._trim_at_peak and self.count < 16:  # the flood is over: give the memory back
            self._trim_at_peak = False
            release_memory()
        elif self.count >= TRIM_AFTER:
            self._trim_at_peak = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_later(SWEEP_SECONDS, self._sweep)

    def _summarise(self, now: float) -> None:
        if self.closed:
            what = ", ".join(f"{n} {why}" for why, n in self.closed.most_common())
            log.warning(
                "HTTP connections closed in the last %.0f s: %s (%d open, at most %d, cap %d; "
                "receiver.max_connections and receiver.*_timeout_seconds)",
                now - self._summary_at, what, self.count, self.peak, self.cap,
            )
            self.closed.clear()
            self.peak = self.count
        self._summary_at = now


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol under a ``Guard`` (set as the class attribute ``guard``)."""

    guard: Guard

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phase: str | None = None
        self.refused = False
        self.answered = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if not self.guard.admit(self, self.loop):
            self.refused = True
            transport.write(_503)
            transport.close()
            return
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.refused or self.phase is None:
            return
        super().data_received(data)
        self._update()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.refused:
            return
        self.guard.move(self, None)
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        self.answered += 1
        super().on_response_complete()
        self._update()

    def _update(self) -> None:
        """The phase from what h11 still expects from the client."""
        if self.phase is None:
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if self.conn.trailing_data[0]:
                phase = "head"
            else:
                phase = "keepalive" if self.answered else "fresh"
        elif state is h11.SEND_BODY:
            phase = "body"
        else:
            phase = "busy"
        self.guard.move(self, phase)

    def close(self, *, timed_out: bool) -> None:
        """Close now (408 first for a slow request); the guard forgets it at once."""
        self.guard.move(self, None)
        if self.transport is None or self.transport.is_closing():
            return
        if timed_out and (self.cycle is None or not self.cycle.response_started):
            self.transport.write(_408)
        self.transport.close()


def release_memory() -> None:
    """Return the heap freed after a flood to the system (glibc ``malloc_trim``; elsewhere a
    no-op), so the RSS comes back near where it was."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def protocol_class(limits: Limits) -> tuple[type[GuardedH11Protocol], Guard]:
    """A protocol class bound to a new ``Guard`` (one per server)."""
    guard = Guard(limits)
    cls = type("GuardedH11", (GuardedH11Protocol,), {"guard": guard})
    return cls, guard
