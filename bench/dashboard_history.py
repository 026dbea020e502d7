"""The store ``bench/dashboard_render.py`` renders the app on: 100 services x 90 days.

Built through the store's public API only, as ``sloctl serve`` would have left it:

- evaluations every ``step`` seconds (60) for the last ``raw_days`` (8) and one an hour before,
  ``days`` (90) in all, for ``services`` services x 2 SLOs (availability 99.9 %, latency 99 %)
  with their golden signals and 4 alerts per service through the real alert state machine;
  then ``store.retention.prune`` at the end with raw 8 days, hourly 90: the older hours become
  the hourly tier, as on a real install;
- 13 weekly report periods (inputs and every scope's scorecard: organisation, 2 teams, each
  service) from ``sloctl.report.sample`` and the report's pure build;
- deployments (3 a day per service on weekdays), a canary judgement per deployment of every
  10th service, an incident a week (Alertmanager's notification), trace exemplars, and the
  DORA scorecards of the last week.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from sloctl.core import alerts as alert_sm
from sloctl.core.alerts import AlertStatus
from sloctl.core.burn import DEFAULT_BURN_RATE_RULES, BurnRateDecision
from sloctl.core.evaluation import Evaluation
from sloctl.core.exemplars import Exemplars, TraceLink
from sloctl.core.signals import Signal, SignalValue
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import ALERT_WINDOWS, WindowResult, window_name
from sloctl.dora.model import Commit, Deployment
from sloctl.report import codec
from sloctl.report.build import build_all
from sloctl.report.period import iso_week
from sloctl.report.sample import sample_inputs
from sloctl.store import Store
from sloctl.store.canary import JudgementRecord
from sloctl.store.incidents import Notification, ReceivedAlert
from sloctl.store.retention import RetentionPolicy
from sloctl.store.traces import ExemplarRecord, TraceFindings

END = datetime(2025, 6, 30, tzinfo=UTC)  # fixed, so a cached store stays valid (a Monday)
LAST_WEEK = "2025-W26"  # the last complete ISO week before END
WEEKS = 13
PERIOD = 30 * 86400  # the SLOs' window
TZ = ZoneInfo("UTC")


@dataclass(frozen=True)
class Params:
    services: int = 100
    days: int = 90
    raw_days: int = 8
    step: int = 60  # seconds between raw evaluations (the default interval)
    seed: int = 7

    def instants(self) -> list[datetime]:
        """Every evaluation instant, oldest first: hourly, then every ``step`` seconds."""
        raw_start = END - timedelta(days=self.raw_days)
        hourly = [END - timedelta(days=self.days) + timedelta(hours=h)
                  for h in range((self.days - self.raw_days) * 24)]
        raw = [raw_start + timedelta(seconds=self.step * (k + 1))
               for k in range(self.raw_days * 86400 // self.step)]
        return hourly + raw


# -- evaluations ----------------------------------------------------------------------------------


class Synthetic:
    """Error ratios per SLO and window: a base, a diurnal swing, noise and a few incidents."""

    def __init__(self, p: Params) -> None:
        rng = np.random.default_rng(p.seed)
        n = 2 * p.services
        self.rng = rng
        self.objectives = np.array([0.999 if i % 2 == 0 else 0.99 for i in range(n)])
        self.base = (1 - self.objectives) * rng.uniform(0.2, 0.9, size=n)
        self.rps = 50 * rng.uniform(0.5, 2.0, size=p.services)
        span = p.days * 86400
        self.incidents = [  # (slo, start offset s, length s): 20x the base ratio
            (slo, float(rng.uniform(0, span)), float(rng.uniform(1800, 10800)))
            for slo in range(0, n, 3) for _ in range(3)
        ]
        self.start = END - timedelta(days=p.days)

    def ratios(self, at: datetime, window: int) -> np.ndarray:
        t = (at - self.start).total_seconds()
        diurnal = 1 + 0.5 * np.sin(2 * np.pi * t / 86400)
        spread = 0.5 if window < 86400 else 0.1
        noise = self.rng.gamma(1 / spread, spread, size=self.base.size)
        ratio = self.base * noise * (diurnal if window < 86400 else 1.0)
        for slo, start, length in self.incidents:
            overlap = min(t, start + length) - max(t - window, start)
            if overlap > 0:
                ratio[slo] *= 1 + 19 * min(1.0, overlap / window)
        return ratio


def evaluations(p: Params) -> Iterator[Evaluation]:
    """The evaluations, oldest first, with alerts run through the real state machine."""
    syn = Synthetic(p)
    windows = (*ALERT_WINDOWS, PERIOD)
    states: dict[str, AlertStatus] = {}
    for at in p.instants():
        by_window = {w: syn.ratios(at, w) for w in windows}
        diurnal = 1 + 0.5 * np.sin(2 * np.pi * (at - syn.start).total_seconds() / 86400)
        slos, alerts = [], []
        for i, objective in enumerate(syn.objectives.tolist()):
            service, name = f"svc-{i // 2:02d}", ("availability", "latency")[i % 2]
            eb = 1 - objective
            rate = float(syn.rps[i // 2] * diurnal)
            results = []
            for w in windows:
                ratio = float(by_window[w][i])
                total = rate * w
                results.append(
                    WindowResult(w, 1 - ratio, ratio, ratio / eb, total, total * ratio, 1.0))
            burn = {r.window: r.burn_rate or 0.0 for r in results}
            decisions = tuple(
                BurnRateDecision(rule, burn[rule.long_window], burn[rule.short_window],
                                 min(burn[rule.long_window], burn[rule.short_window]) > rule.factor)
                for rule in DEFAULT_BURN_RATE_RULES
            )
            period = results[-1]
            remaining = 1 - burn[PERIOD]
            slo_id = f"{service}/{name}"
            slos.append(SLOStatus(
                slo_id=slo_id, service=service, name=name, objective=objective, period=PERIOD,
                period_elapsed=PERIOD, at=at, sli=period.sli, error_budget=eb,
                budget_remaining=remaining, budget_total_minutes=eb * PERIOD / 60,
                budget_remaining_minutes=eb * PERIOD / 60 * remaining,
                budget_remaining_events=eb * (period.total or 0) - (period.bad or 0),
                windows=tuple(results), decisions=decisions, exhaustion_at=None,
                breaching=(period.sli or 0) < objective,
            ))
            for severity in ("page", "ticket"):
                ds = [d for d in decisions if d.rule.severity == severity]
                worst = max(ds, key=lambda d: (d.long_burn or 0.0) / d.rule.factor)
                alerts.append(_alert(states, f"burn_rate:{severity}/{slo_id}", service, slo_id,
                                     severity, worst.rule.factor, any(d.firing for d in ds),
                                     worst.long_burn, at))
        signals = []
        for s in range(p.services):
            service = f"svc-{s:02d}"
            ratio = float(by_window[300][2 * s])
            rate = float(syn.rps[s] * diurnal)
            values = (rate, ratio, 0.04 + ratio, 0.15 + 5 * ratio, 0.3 + 10 * ratio, rate / 100)
            signals += [SignalValue(service, sig, v) for sig, v in zip(Signal, values, strict=True)]
            alerts.append(_alert(states, f"default:error_ratio/{service}", service, None,
                                 "warning", 0.005, ratio > 0.005, ratio, at))
            alerts.append(_alert(states, f"default:latency_p95/{service}", service, None,
                                 "warning", 0.3, values[3] > 0.3, values[3], at))
        yield Evaluation(at, at, at + timedelta(seconds=2), tuple(slos), tuple(signals),
                         tuple(alerts), (), query_count=80)


def _alert(states: dict[str, AlertStatus], key: str, service: str, slo_id: str | None,
           severity: str, threshold: float, condition: bool, value: float | None,
           at: datetime) -> AlertStatus:
    labels = {"window": window_name(3600)} if slo_id else {"window": "5m"}
    status = alert_sm.next_state(
        states.get(key), key=key, rule=key.split("/")[0], service=service, slo_id=slo_id,
        severity=severity, threshold=threshold, condition=condition, value=value,
        for_seconds=0 if slo_id else 300, now=at, labels=labels,
    )
    states[key] = status
    return status


# -- reports, deployments, canary, incidents, traces, DORA ----------------------------------------


def weekly_reports(store: Store, p: Params) -> None:
    """13 weekly periods: inputs and every scope's scorecard, as ``weekly.publish`` stores them."""
    last = iso_week(LAST_WEEK, TZ, "UTC")
    for k in range(WEEKS - 1, -1, -1):
        week = last.previous(k, TZ) if k else last
        inputs = sample_inputs(p.services, TZ, week=week.key)
        store.reports.save_inputs(week.key, week.start, week.end, inputs.measured_at,
                                  codec.encode(inputs))
        for key, card in build_all(inputs, TZ).items():
            store.reports.save_scorecard(week.key, key, inputs.measured_at, codec.encode(card))
        if k == 0:
            cards = list(inputs.dora_trailing.values())
            store.scorecards.save(cards, inputs.measured_at)


def deployments(store: Store, p: Params) -> None:
    """3 deployments a weekday per service; a canary judgement for every 10th service's."""
    day = (END - timedelta(days=p.days)).date()
    while day < END.date():
        if day.weekday() < 5:
            for i in range(p.services):
                for k, hour in enumerate((9, 12, 15)):
                    finished = datetime(day.year, day.month, day.day, hour, 5 + i % 50,
                                        tzinfo=UTC)
                    sha = f"{i:04d}{day.toordinal():08d}{k:04d}"
                    d = Deployment(f"svc-{i:02d}", "production", f"1.{day.toordinal()}.{k}",
                                   sha, finished, commit_time=finished - timedelta(minutes=30),
                                   commits=(Commit(sha, finished - timedelta(minutes=30)),))
                    store.deployments.record(d, "bench", finished)
                    if i % 10 == 0:
                        at = finished + timedelta(minutes=10)
                        store.canary.save(JudgementRecord(
                            at, d.service, "fail" if k == 2 and day.day % 7 == 0 else "pass",
                            f'{d.service}{{version="{d.version}"}}',
                            f'{d.service}{{version="previous"}}', 600, "bench", at, d.version,
                            "production"))
        day += timedelta(days=1)


def incidents(store: Store, p: Params) -> None:
    """One resolved incident a week on a rotating service, with exemplar traces."""
    for w in range(p.days // 7):
        service = f"svc-{(w * 7) % p.services:02d}"
        start = END - timedelta(days=7 * w + 3, hours=-10)
        end = start + timedelta(minutes=20 + w % 4 * 10)
        alert = ReceivedAlert(f"bench{w:04d}", "resolved", start, end,
                              {"alertname": "HighErrorRate", "service": service,
                               "severity": "critical"}, {"summary": f"{service}: errors"})
        store.alerts.record(Notification("sloctl", "resolved", f"bench-{w}", (alert,)), end)
        link = TraceLink(f"{w:032x}", service, "GET /", start.isoformat(), 1.5, 12, 2,
                         f"http://127.0.0.1:16686/trace/{w:032x}")
        found = Exemplars(service, start.isoformat(), end.isoformat(), (link,), (link,))
        store.traces.save(TraceFindings(end, (ExemplarRecord(f"{service}/availability", "slo",
                                                             found),)), end)


def build(p: Params, path: Path, marker: Path) -> None:
    """Write the store (deleting an older one), printing progress."""
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), marker):
        stale.unlink(missing_ok=True)
    instants = len(p.instants())
    print(f"building {path} ({instants} evaluations, {2 * p.services} SLOs) ...", flush=True)
    began = time.perf_counter()
    batch, done = 200, 0
    with Store(f"sqlite:///{path}") as store:
        evs = evaluations(p)
        while chunk := [ev for _, ev in zip(range(batch), evs, strict=False)]:
            store.evaluations.save_many(chunk, batch_size=batch)
            done += len(chunk)
            elapsed = time.perf_counter() - began
            print(f"\r  {done}/{instants} ({done / instants:5.1%}) {elapsed:5.0f} s, "
                  f"ETA {elapsed / done * (instants - done):4.0f} s",
                  end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        policy = RetentionPolicy(raw_days=p.raw_days, hourly_days=p.days, daily_days=400)
        report = store.retention.prune(END + timedelta(minutes=1), policy)
        print(f"  pruned to the retention tiers in {report.seconds:.0f} s", flush=True)
        weekly_reports(store, p)
        deployments(store, p)
        incidents(store, p)
    marker.write_text(json.dumps(asdict(p)))
    size = path.stat().st_size / 1e9
    print(f"built in {time.perf_counter() - began:.0f} s, {size:.2f} GB", flush=True)


def cached(p: Params, out: Path, rebuild: bool) -> Path:
    """The store for ``p`` in ``out``, built unless a store of the same parameters is there."""
    out.mkdir(parents=True, exist_ok=True)
    name = f"dashboard_store_{p.services}x{p.days}d"
    path, marker = out / f"{name}.db", out / f"{name}.json"
    fresh = marker.exists() and path.exists() and json.loads(marker.read_text()) == asdict(p)
    if rebuild or not fresh:
        build(p, path, marker)
    else:
        print(f"reusing {path} ({path.stat().st_size / 1e9:.2f} GB; --rebuild to rebuild)")
        Store(f"sqlite:///{path}", upgrade=True).close()  # a newer sloctl's schema revision
    return path
