"""A bounded load driver for the OpenTelemetry test app, and the ground truth it records.

``LoadDriver(app_url).start(Mix(ok=30, fail=6, slow=8, between=6), duration=4.0)`` sends the
requests of the mix at a steady rate (request ``i`` is due at ``start + i * duration / n``, the
kinds interleaved evenly) from a few threads, in the background; ``Load.wait()`` returns the
:class:`LoadResult` once every request was answered, ``Load.stop()`` stops the traffic at once
(requests not yet due are never sent; those in flight finish) and returns what was served.

Latency classes are certain by construction: ``/ok`` and ``/fail`` answer at once, ``/slow?ms=N``
sleeps ``N`` ms, so the server-side duration of a request lies in
``[sleep, client latency + SERVER_AFTER_CLIENT_MARGIN]``. :meth:`LoadResult.count_le` counts the
requests certainly at or below a bucket bound and reports those it cannot place (``ambiguous``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

import httpx

Kind = Literal["ok", "fail", "slow", "between"]
KINDS: tuple[Kind, ...] = ("ok", "fail", "slow", "between")

# The app stops its OTel timer a few Python frames after the last byte is sent, so the recorded
# duration may exceed what the client measured by that much (microseconds; 10 ms under load).
SERVER_AFTER_CLIENT_MARGIN = 0.010


@dataclass(frozen=True)
class Mix:
    """How many requests of each kind; ``slow_ms`` and ``between_ms`` are the sleeps."""

    ok: int = 0
    fail: int = 0
    slow: int = 0
    between: int = 0
    slow_ms: int = 420  # clearly above 300 ms (and above 250 ms)
    between_ms: int = 270  # between 250 ms and 300 ms: interpolation errors show here

    def __post_init__(self) -> None:
        if min(self.ok, self.fail, self.slow, self.between) < 0:
            raise ValueError("counts must not be negative")
        if not 250 < self.between_ms < 300 - 1000 * SERVER_AFTER_CLIENT_MARGIN:
            raise ValueError("between_ms must lie in (250, 290) ms")
        if self.slow_ms <= 300:
            raise ValueError("slow_ms must be above 300 ms")

    @property
    def total(self) -> int:
        return self.ok + self.fail + self.slow + self.between

    def count(self, kind: Kind) -> int:
        counts: int = getattr(self, kind)
        return counts

    def path(self, kind: Kind) -> str:
        return {
            "ok": "/ok",
            "fail": "/fail",
            "slow": f"/slow?ms={self.slow_ms}",
            "between": f"/slow?ms={self.between_ms}",
        }[kind]

    def sleep_seconds(self, kind: Kind) -> float:
        sleep_ms = {"slow": self.slow_ms, "between": self.between_ms}.get(kind, 0)
        return sleep_ms / 1000

    def schedule(self) -> list[Kind]:
        """The kinds in sending order, each spread evenly over the run (deterministic)."""
        slots: list[tuple[float, int, Kind]] = []
        for rank, kind in enumerate(KINDS):
            n = self.count(kind)
            slots.extend(((i + 0.5) / n, rank, kind) for i in range(n))
        return [kind for _, _, kind in sorted(slots)]


@dataclass(frozen=True)
class Served:
    """One answered request: kind, HTTP status, and the bounds of its server-side duration."""

    kind: Kind
    status: int
    sent_at: float  # time.time() when sent
    min_seconds: float  # the app slept this long at least
    max_seconds: float  # client latency + SERVER_AFTER_CLIENT_MARGIN


@dataclass
class LoadResult:
    """Ground truth: what the app served (only answered requests are counted)."""

    mix: Mix
    served: list[Served] = field(default_factory=list)
    transport_errors: int = 0  # no answer (connection error or timeout): the app may have served it
    started_at: float = 0.0  # time.time() of the first due request
    finished_at: float = 0.0  # time.time() once the last answer came back

    @property
    def total(self) -> int:
        return len(self.served)

    @property
    def by_status(self) -> Counter[int]:
        return Counter(s.status for s in self.served)

    @property
    def by_kind(self) -> Counter[Kind]:
        return Counter(s.kind for s in self.served)

    @property
    def errors_5xx(self) -> int:
        return sum(1 for s in self.served if 500 <= s.status <= 599)

    def count_le(self, bound_seconds: float) -> tuple[int, int]:
        """``(requests certainly <= bound, requests that could be on either side)``."""
        below = ambiguous = 0
        for s in self.served:
            if s.max_seconds <= bound_seconds:
                below += 1
            elif s.min_seconds <= bound_seconds:
                ambiguous += 1
        return below, ambiguous


class Load:
    """Traffic running in the background; ``wait()`` or ``stop()`` it. A context manager."""

    def __init__(self, base_url: str, mix: Mix, duration: float, workers: int) -> None:
        if duration < 0:
            raise ValueError("duration must not be negative")
        self._base_url = base_url
        self._mix = mix
        self._plan = mix.schedule()
        self._spacing = duration / len(self._plan) if self._plan else 0.0
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.result = LoadResult(mix)
        self._max_latency = mix.slow_ms / 1000 + 10.0  # generous client timeout
        self._t0 = time.monotonic() + 0.05
        self.result.started_at = time.time() + 0.05
        self._threads = [
            threading.Thread(target=self._work, name=f"otel-load-{i}", daemon=True)
            for i in range(max(1, min(workers, len(self._plan))))
        ]
        for thread in self._threads:
            thread.start()

    def _take(self) -> tuple[int, Kind] | None:
        with self._lock:
            if self._next >= len(self._plan):
                return None
            index = self._next
            self._next += 1
            return index, self._plan[index]

    def _work(self) -> None:
        with httpx.Client(base_url=self._base_url, timeout=self._max_latency) as client:
            # Open the keep-alive connection on a route the app excludes from its metrics, so
            # the first counted request does not pay for the connection (or thread start).
            with contextlib.suppress(httpx.TransportError):
                client.get("/healthz")
            while (item := self._take()) is not None:
                index, kind = item
                due = self._t0 + index * self._spacing
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return  # stopped: what is not yet due is never sent
                sent_at = time.time()
                began = time.monotonic()
                try:
                    answer = client.get(self._mix.path(kind))
                except httpx.TransportError:
                    with self._lock:
                        self.result.transport_errors += 1
                    continue
                latency = time.monotonic() - began
                served = Served(
                    kind=kind,
                    status=answer.status_code,
                    sent_at=sent_at,
                    min_seconds=self._mix.sleep_seconds(kind),
                    max_seconds=latency + SERVER_AFTER_CLIENT_MARGIN,
                )
                with self._lock:
                    self.result.served.append(served)

    @property
    def answered(self) -> int:
        """Requests answered so far (safe to read while the load runs)."""
        with self._lock:
            return len(self.result.served)

    @property
    def done(self) -> bool:
        return not any(t.is_alive() for t in self._threads)

    def wait(self, timeout: float | None = None) -> LoadResult:
        """Wait until every request was answered (``timeout`` defaults to duration + 30 s)."""
        limit = timeout if timeout is not None else self._spacing * len(self._plan) + 30.0
        deadline = time.monotonic() + limit
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if not self.done:
            self.stop()
            raise TimeoutError(f"the load did not finish within {limit:.0f} s")
        return self._finish()

    def stop(self) -> LoadResult:
        """Stop sending now; wait for the requests in flight; return what was served."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self._max_latency + 5.0)
        return self._finish()

    def _finish(self) -> LoadResult:
        if not self.result.finished_at:
            self.result.finished_at = time.time()
        return self.result

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class LoadDriver:
    """Sends a :class:`Mix` to one app. ``run`` blocks; ``start`` returns a background Load."""

    def __init__(self, base_url: str, workers: int = 12) -> None:
        self.base_url = base_url
        self.workers = workers

    def start(self, mix: Mix, duration: float) -> Load:
        return Load(self.base_url, mix, duration, self.workers)

    def run(self, mix: Mix, duration: float) -> LoadResult:
        with self.start(mix, duration) as load:
            return load.wait()
