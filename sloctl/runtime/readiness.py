"""``/readyz`` and the replica's role on ``/metrics``.

Ready means: the store answers; and, on the leader (the replica that evaluates), the last cycle
reached its backends and the latest stored evaluation is younger than ``STALE_INTERVALS``
intervals. A follower only accepts webhooks and serves ``/metrics``, so the store is its one
check. The answer is JSON naming each check and which failed; 503 when not ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from sloctl.core.alert_rules import STALE_INTERVALS  # not ready past it, as the stale alert
from sloctl.errors import SloctlError
from sloctl.store import StoreReader


class Role(Protocol):
    """What readiness needs of the leadership (``runtime.leadership.Leadership``)."""

    replica: str
    changes: int

    @property
    def is_leader(self) -> bool: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str
    extra: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, **(self.extra or {})}


class Readiness:
    """The checks of ``/readyz`` for one replica (see the module docstring).

    ``backend_failed`` says whether the last cycle could not reach a backend (None: no cycle
    yet).
    """

    def __init__(
        self, reader: StoreReader, interval: int, role: Role | None = None,
        backend_failed: Callable[[], bool | None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.reader = reader
        self.interval = interval
        self.role = role
        self.backend_failed = backend_failed
        self.clock = clock

    def check(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the JSON body)."""
        checks: dict[str, Check] = {}
        latest: datetime | None = None
        try:
            latest = self.reader.evaluations.latest_at()
            checks["store"] = Check(True, "the store answers")
        except SloctlError as err:
            checks["store"] = Check(False, str(err))
        leading = self.role is None or self.role.is_leader
        if leading:
            checks["backend"] = self._backend()
            if checks["store"].ok:
                checks["last_cycle"] = self._freshness(latest)
        failed = [name for name, c in checks.items() if not c.ok]
        body: dict[str, Any] = {
            "status": "ready" if not failed else "not ready",
            "role": self.role.role if self.role is not None else "leader",
            "failed": failed,
            "checks": {name: c.as_json() for name, c in checks.items()},
        }
        if self.role is not None:
            body["replica"] = self.role.replica
        return not failed, body

    def _backend(self) -> Check:
        failed = self.backend_failed()
        if failed is None:
            return Check(True, "no cycle run by this replica yet")
        if failed:
            return Check(False, "the last cycle could not reach a backend (Prometheus or "
                         "Loki): see the log and `sloctl status`")
        return Check(True, "the last cycle reached its backends")

    def _freshness(self, latest: datetime | None) -> Check:
        limit = STALE_INTERVALS * self.interval
        if latest is None:
            return Check(False, "no evaluation stored yet", {"limit_seconds": limit})
        age = (self.clock() - latest).total_seconds()
        extra = {"at": latest.isoformat(), "age_seconds": round(age, 3), "limit_seconds": limit}
        if age > limit:
            return Check(False, f"the latest evaluation is {age:.0f} s old, more than "
                         f"{STALE_INTERVALS} intervals ({limit} s)", extra)
        return Check(True, "the latest evaluation is recent", extra)


class RoleCollector(Collector):
    """``sloctl_leader`` (1 on the leader) and ``sloctl_leader_changes_total``."""

    def __init__(self, role: Role) -> None:
        self.role = role

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        leader = GaugeMetricFamily(
            "sloctl_leader", "1 when this replica is the leader (evaluates, notifies, prunes, "
            "sends the weekly report), 0 when a follower.", labels=["replica"])
        leader.add_metric([self.role.replica], float(self.role.is_leader))
        changes = CounterMetricFamily(
            "sloctl_leader_changes", "Times this replica's role changed since it started.",
            labels=["replica"])
        changes.add_metric([self.role.replica], float(self.role.changes))
        yield leader
        yield changes
