"""The demo shop's deployment history: deterministic, 30 days, every DORA figure with data.

Per service, production deployments on weekdays (UTC) at fixed times, each delivering one to
three commits made 20 min to 3 h before (seeded, so the same ``end`` gives the same history):
order 4 a day, user 3, inventory and payment 2, notification 1. Around the scenario's order
incident (25 % errors from ``end - 20h`` for 30 min) order ships a bad version 10 min before
the burst and rolls back 25 min into it; the incident (severity critical) ends 5 min later.
On the weekday 12 days before ``end`` (or the one before) payment ships a hotfix 75 min after a
faulty release. Also one redeploy of the same commit (notification) and one failed deploy
attempt (user).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sloctl.demo.scenario import shop_scenario
from sloctl.dora.model import Commit, Deployment, DeployStatus, DoraIncident
from sloctl.store import Store
from sloctl.store.incidents import Notification, ReceivedAlert

ENVIRONMENT = "production"
SEED = 5
DAILY: dict[str, tuple[time, ...]] = {
    "order": (time(8, 40), time(10, 50), time(13, 20), time(15, 45)),
    "user": (time(9, 10), time(12, 30), time(16, 5)),
    "inventory": (time(9, 55), time(14, 35)),
    "payment": (time(10, 20), time(15, 10)),
    "notification": (time(11, 0),),
}
QUIET = timedelta(hours=2)  # no regular order deployment this close to the incident story
HOTFIX_DAYS_AGO = 12
ALERTNAME = "OrderHighErrorRate"


@dataclass(frozen=True)
class DemoHistory:
    """Deployments (oldest first) and the qualifying incident they explain."""

    deployments: tuple[Deployment, ...]
    incidents: tuple[DoraIncident, ...]


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


class _Shipper:
    """Builds one service's deployments with increasing versions and fresh commits."""

    def __init__(self, service: str, rng: random.Random) -> None:
        self.service = service
        self.rng = rng
        self.count = 0
        self.last: Deployment | None = None

    def ship(
        self, finished: datetime, *, version: str | None = None, ref: str = "main"
    ) -> Deployment:
        self.count += 1
        commits = tuple(
            Commit(
                _sha(self.service, self.count, i),
                finished - timedelta(minutes=self.rng.randint(20, 180)),
            )
            for i in range(self.rng.randint(1, 3))
        )
        commits = tuple(sorted(commits, key=lambda c: c.time))
        head = commits[-1]
        d = Deployment(
            service=self.service,
            environment=ENVIRONMENT,
            version=version or f"1.{self.count}.0",
            sha=head.sha,
            finished=finished,
            commit_time=head.time,
            started=finished - timedelta(minutes=6),
            commits=commits,
            ref=ref,
        )
        self.last = d
        return d


def shop_history(end: datetime, days: int = 30) -> DemoHistory:
    """The shop's deployments over ``[end - days, end)`` and the order incident."""
    end = end.astimezone(UTC)
    (burst,) = shop_scenario(end, history=timedelta(days=days)).profile("order").incidents
    assert burst.end is not None
    rng = random.Random(SEED)
    start_day = (end - timedelta(days=days)).date()
    hotfix_day = (end - timedelta(days=HOTFIX_DAYS_AGO)).date()
    while hotfix_day.weekday() >= 5:  # the weekday on or before it
        hotfix_day -= timedelta(days=1)
    out: list[Deployment] = []
    for service, times in DAILY.items():
        shipper = _Shipper(service, rng)
        bad_shipped = False
        for offset in range(days + 1):
            day = start_day + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for at in times:
                finished = datetime.combine(day, at, UTC)
                if not end - timedelta(days=days) <= finished < end - timedelta(minutes=5):
                    continue
                near_burst = abs(finished - burst.start) < QUIET
                if service == "order" and near_burst:
                    continue
                if service == "order" and not bad_shipped and finished > burst.start:
                    out += _order_rollback(shipper, burst.start, burst.end)
                    bad_shipped = True
                out.append(shipper.ship(finished))
                if service == "payment" and day == hotfix_day and at == times[0]:
                    fix = finished + timedelta(minutes=75)
                    out.append(shipper.ship(fix, version=f"1.{shipper.count}.1-hotfix",
                                            ref="hotfix/card-timeout"))  # fmt: skip
        if service == "order" and not bad_shipped:
            out += _order_rollback(shipper, burst.start, burst.end)
    out += _oddities(out)
    out.sort(key=lambda d: (d.finished, d.service))
    incident = DoraIncident(
        id=f"order@{burst.start.isoformat().replace('+00:00', 'Z')}",
        service="order",
        environment=ENVIRONMENT,
        start=burst.start,
        end=burst.end,
        severity="critical",
        labels={"alertname": ALERTNAME, "service": "order", "severity": "critical"},
    )
    return DemoHistory(tuple(out), (incident,))


def _order_rollback(shipper: _Shipper, start: datetime, end: datetime) -> list[Deployment]:
    """The bad release 10 min before the burst and the rollback 5 min before its end."""
    good = shipper.last
    bad = shipper.ship(start - timedelta(minutes=10))
    if good is None:
        return [bad]
    rollback = Deployment(
        service=good.service,
        environment=ENVIRONMENT,
        version=good.version,
        sha=good.sha,
        finished=end - timedelta(minutes=5),
        status=DeployStatus.ROLLBACK,
        commit_time=good.commit_time,
        started=end - timedelta(minutes=8),
        ref="rollback",
    )
    shipper.last = rollback
    return [bad, rollback]


def _oddities(deployments: list[Deployment]) -> list[Deployment]:
    """One redeploy (notification's first release again, 2 h later) and one failed attempt."""
    extra: list[Deployment] = []
    notification = next(d for d in deployments if d.service == "notification")
    extra.append(
        Deployment(
            **{**notification.__dict__, "finished": notification.finished + timedelta(hours=2)}
        )
    )
    user = next(d for d in deployments if d.service == "user")
    extra.append(
        Deployment(
            **{
                **user.__dict__,
                "version": "1.0.9-broken-build",
                "sha": _sha("user", "broken"),
                "finished": user.finished - timedelta(hours=1),
                "status": DeployStatus.FAILURE,
                "commits": (),
            }
        )
    )
    return extra


def incident_notification(incident: DoraIncident) -> Notification:
    """The resolved Alertmanager notification that the incident would have produced."""
    alert = ReceivedAlert(
        fingerprint=_sha("alert", incident.id)[:16],
        status="resolved",
        starts_at=incident.start,
        ends_at=incident.end,
        labels={**incident.labels, "env": incident.environment},
        annotations={"summary": "order: 25 % of requests fail"},
    )
    return Notification(
        receiver="sloctl",
        status="resolved",
        group_key=f'{{}}:{{alertname="{ALERTNAME}"}}',
        alerts=(alert,),
        group_labels={"alertname": ALERTNAME},
    )


def record_history(store: Store, history: DemoHistory, now: datetime) -> int:
    """Record the deployments (source ``demo``) and the incident's Alertmanager notification."""
    for d in history.deployments:
        store.deployments.record(d, "demo", now)
    for incident in history.incidents:
        store.alerts.record(incident_notification(incident), now)
    return len(history.deployments)
